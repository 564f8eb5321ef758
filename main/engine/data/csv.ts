import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import type { Candidate, Skipped, SplitName } from './walk';

/**
 * CSV manifests: `path,label[,split]`, paths relative to the CSV's folder, header optional,
 * RFC 4180 quoting (fields in double quotes, "" for a quote, commas and newlines inside quotes).
 * The parser is written here because it is 40 lines and none of the installed dependencies
 * parses CSV; a CSV library would be a new runtime dependency for this one use.
 */

export interface CsvRow {
  /** 1-based line number where the row starts, for error messages. */
  line: number;
  fields: string[];
}

export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a UTF-8 BOM, as Excel writes
  const endRow = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0].trim() !== '') rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
    rowLine = line;
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field.trim() === '') {
      field = '';
      quoted = true;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      line++;
      endRow();
    } else field += ch;
  }
  if (quoted) throw new SyntaxError(`The CSV has an unclosed quote in the row starting on line ${rowLine}.`);
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

const HEADER_PATH = ['path', 'file', 'filename', 'image', 'filepath'];
const HEADER_LABEL = ['label', 'class', 'category', 'target'];
const SPLITS: Record<string, SplitName> = { train: 'train', val: 'val', valid: 'val', validation: 'val', test: 'test' };

export interface ManifestResult {
  candidates: Candidate[];
  skipped: Skipped[];
  classes: Set<string>;
  splits: Set<SplitName>;
  errors: string[];
}

/** Reads a manifest; every row becomes a candidate or a skipped entry, missing files an error. */
export async function readManifest(csvPath: string, signal?: AbortSignal): Promise<ManifestResult> {
  const out: ManifestResult = { candidates: [], skipped: [], classes: new Set(), splits: new Set(), errors: [] };
  const name = path.basename(csvPath);
  let text: string;
  try {
    text = await fs.readFile(csvPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    out.errors.push(code === 'ENOENT' ? `CSV manifest ${csvPath} does not exist.` : `CSV manifest ${csvPath} cannot be read (${code ?? (err as Error).message}).`);
    return out;
  }
  let rows: CsvRow[];
  try {
    rows = parseCsv(text);
  } catch (err) {
    out.errors.push(`CSV manifest ${name}: ${(err as Error).message}`);
    return out;
  }
  if (rows.length > 0) {
    const [a, b] = rows[0].fields.map((f) => f.trim().toLowerCase());
    if (HEADER_PATH.includes(a) && HEADER_LABEL.includes(b)) rows.shift();
  }
  if (rows.length === 0) {
    out.errors.push(`CSV manifest ${name} has no rows; expected lines of "path,label".`);
    return out;
  }
  const base = path.dirname(path.resolve(csvPath));
  const missing: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    signal?.throwIfAborted();
    const [file, label, splitField] = row.fields.map((f) => f.trim());
    const where = `row on line ${row.line} of ${name}`;
    if (row.fields.length < 2 || row.fields.length > 3 || !file || !label) {
      out.skipped.push({ path: `${name}:${row.line}`, reason: `is a malformed ${where}: expected "path,label" or "path,label,split", got ${row.fields.length} field(s)` });
      continue;
    }
    let split: SplitName | null = null;
    if (splitField !== undefined && splitField !== '') {
      split = SPLITS[splitField.toLowerCase()] ?? null;
      if (!split) {
        out.skipped.push({ path: file, reason: `has split "${splitField}" on the ${where}; accepted: train, val, test` });
        continue;
      }
    }
    const full = path.resolve(base, file);
    if (seen.has(full)) {
      out.skipped.push({ path: file, reason: `is listed again on the ${where}; only its first row is used` });
      continue;
    }
    seen.add(full);
    out.classes.add(label);
    let st: Stats;
    try {
      st = await fs.stat(full);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? `does not exist (named on the ${where})` : `cannot be read (${code}; named on the ${where})`;
      out.skipped.push({ path: file, reason });
      if (code === 'ENOENT') missing.push(`${file} (line ${row.line})`);
      continue;
    }
    if (!st.isFile()) {
      out.skipped.push({ path: file, reason: `is not a regular file (named on the ${where})` });
      continue;
    }
    if (st.size === 0) {
      out.skipped.push({ path: file, reason: 'is empty (0 bytes)' });
      continue;
    }
    if (split) out.splits.add(split);
    out.candidates.push({ path: full, rel: file.split(path.sep).join('/'), cls: label, split, size: st.size, mtimeMs: st.mtimeMs });
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join(', ');
    out.errors.push(
      `CSV manifest ${name} names ${missing.length} file(s) that do not exist: ${shown}${missing.length > 5 ? `, and ${missing.length - 5} more` : ''}. ` +
        `Paths are relative to the CSV's folder (${base}).`,
    );
  }
  return out;
}

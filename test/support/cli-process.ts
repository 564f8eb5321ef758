import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The workbench's commands as a user runs them: real processes through bin/densenet-workbench.mjs
 * (or npm, npx), in a fresh environment with its own HOME, run store and working folder, so no
 * in-process state (a backend another test started, a cached module) can make a command pass.
 * Every command line run is recorded, so a suite can check it ran all the README shows.
 */
export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'densenet-workbench.mjs');

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Invocation {
  /** `densenet-workbench`, `npm`, `npx` … */
  program: string;
  args: string[];
}

export interface Started {
  child: ChildProcess;
  /** Output so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first match of `pattern` in stdout (or stderr), or rejects after `timeoutMs` or when the process exits first. */
  waitFor(pattern: RegExp, options?: { stream?: 'stdout' | 'stderr'; timeoutMs?: number }): Promise<RegExpExecArray>;
  /** Sends `signal` (default SIGINT) and resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<Result>;
  exited: Promise<Result>;
}

export class CliSandbox {
  readonly root: string;
  readonly home: string;
  readonly runs: string;
  readonly work: string;
  readonly invocations: Invocation[] = [];
  private readonly children = new Set<ChildProcess>();

  constructor(prefix = 'wb-cli-') {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.home = path.join(this.root, 'home');
    this.runs = path.join(this.root, 'runs');
    this.work = path.join(this.root, 'work');
    for (const d of [this.home, this.work]) fs.mkdirSync(d, { recursive: true });
  }

  /**
   * A fresh environment: only PATH and a locale from this one, the sandbox's HOME, and the run
   * store in WORKBENCH_RUNS_DIR (the store every command defaults to). No browser is opened.
   */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH, LANG: 'C.UTF-8', HOME: this.home, TMPDIR: os.tmpdir(), WORKBENCH_RUNS_DIR: this.runs, BROWSER: 'none', ...extra };
  }

  private spawn(program: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; detached?: boolean }): ChildProcess {
    this.invocations.push({ program, args });
    const child = spawn(command, program === 'densenet-workbench' ? [BIN, ...args] : args, {
      cwd: options.cwd ?? this.work,
      env: this.env(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached,
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Runs `densenet-workbench ARGS` to completion. */
  cli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
    return this.start(args, options).exited;
  }

  /** Starts `densenet-workbench ARGS` (or `program ARGS` for npm/npx) and returns at once. */
  start(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; program?: 'npm' | 'npx' | 'node'; detached?: boolean } = {}): Started {
    const program = options.program ?? 'densenet-workbench';
    const child = this.spawn(program, program === 'densenet-workbench' ? process.execPath : program, args, options);
    let stdout = '';
    let stderr = '';
    const waiters: (() => void)[] = [];
    const poke = () => waiters.forEach((w) => w());
    child.stdout!.on('data', (c) => {
      stdout += c;
      poke();
    });
    child.stderr!.on('data', (c) => {
      stderr += c;
      poke();
    });
    const limit = options.timeoutMs ?? 300_000;
    const timer = setTimeout(() => this.killTree(child, 'SIGKILL'), limit);
    const exited = new Promise<Result>((resolve) => {
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        poke();
        resolve({ code, signal, stdout, stderr });
      });
    });
    let done = false;
    void exited.then(() => (done = true));
    const started: Started = {
      child,
      get stdout() {
        return stdout;
      },
      get stderr() {
        return stderr;
      },
      exited,
      waitFor(pattern, { stream = 'stdout', timeoutMs = 150_000 } = {}) {
        return new Promise((resolve, reject) => {
          const check = () => {
            const m = pattern.exec(stream === 'stdout' ? stdout : stderr);
            if (m) {
              cleanup();
              resolve(m);
            } else if (done) {
              cleanup();
              reject(new Error(`${[program, ...args].join(' ')} exited before printing ${pattern}.\nstdout: ${stdout}\nstderr: ${stderr}`));
            }
          };
          const t = setTimeout(() => {
            cleanup();
            reject(new Error(`${[program, ...args].join(' ')} did not print ${pattern} within ${timeoutMs} ms.\nstdout: ${stdout}\nstderr: ${stderr}`));
          }, timeoutMs);
          const cleanup = () => {
            clearTimeout(t);
            const at = waiters.indexOf(check);
            if (at >= 0) waiters.splice(at, 1);
          };
          waiters.push(check);
          check();
        });
      },
      stop: (signal = 'SIGINT') => {
        if (!done && options.detached) this.killTree(child, signal);
        else if (!done) child.kill(signal);
        return exited;
      },
    };
    return started;
  }

  /** A detached child leads its own process group (npm → start.mjs → serve): signal them all. */
  private killTree(child: ChildProcess, signal: NodeJS.Signals): void {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  }

  /** Ends whatever is still running and removes the sandbox. */
  cleanup(): void {
    for (const child of this.children) {
      this.killTree(child, 'SIGKILL');
      child.kill('SIGKILL');
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** A command line of the README: its program, subcommand and the flags it shows. */
export interface ReadmeCommand {
  line: string;
  program: string;
  command: string;
  flags: string[];
}

/**
 * Every command line the README shows, from its shell code blocks and its inline code: lines that
 * start with `densenet-workbench`, `npm`, `npx` or `node`. A trailing backslash continues a line.
 */
export function readmeCommands(readme: string): ReadmeCommand[] {
  const lines: string[] = [];
  let inBlock = false;
  let pending = '';
  for (const raw of readme.split('\n')) {
    if (/^```/.test(raw)) {
      inBlock = !inBlock;
      continue;
    }
    if (inBlock) {
      const text = pending + raw.replace(/\s+#.*$/, '').trim();
      if (text.endsWith('\\')) pending = text.slice(0, -1) + ' ';
      else {
        pending = '';
        lines.push(text);
      }
    } else {
      for (const m of raw.matchAll(/`([^`]+)`/g)) lines.push(m[1].trim());
    }
  }
  const out: ReadmeCommand[] = [];
  for (const line of lines) {
    const m = /^(densenet-workbench|npm|npx|node)\s+(\S+)(.*)$/.exec(line);
    if (!m) continue;
    const rest = m[3];
    const command = m[1] === 'npm' && m[2] === 'run' ? `run ${rest.trim().split(/\s+/)[0]}` : m[2];
    out.push({ line, program: m[1], command, flags: [...new Set([...rest.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((f) => f[0]))] });
  }
  return out;
}

/** The subcommand and the flags of one invocation, as readmeCommands names them. */
export function describeInvocation(inv: Invocation): { command: string; flags: string[] } {
  const args = inv.args;
  const command = inv.program === 'npm' && args[0] === 'run' ? `run ${args[1]}` : (args.find((a) => !a.startsWith('-')) ?? '');
  return { command, flags: args.filter((a) => a.startsWith('--') && a !== '--').map((a) => a.split('=')[0]) };
}

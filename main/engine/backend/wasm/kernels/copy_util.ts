/** Rows and inner size for splitting or joining `shape` along `axis`: both become column copies. */
export function geometry(shape: number[], axis: number): { rows: number; inner: number } {
  let rows = 1;
  for (let i = 0; i < axis; i++) rows *= shape[i];
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { rows, inner };
}

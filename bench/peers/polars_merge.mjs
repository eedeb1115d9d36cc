// The job of `domain_bench merge` in Polars (lazy): read both files as text, keep the first row
// of a repeated INSZ, inner join on insz, drop insz, write ';' CSV.
//   node polars_merge.mjs RETURN EXTRACT OUTPUT
import { openSync, readSync, closeSync } from 'node:fs';
import pl from 'nodejs-polars';

const [returned, extract, output] = process.argv.slice(2);
const header = (path) => {
  const fd = openSync(path, 'r');
  const buffer = Buffer.alloc(64 * 1024);
  const n = readSync(fd, buffer, 0, buffer.length, 0);
  closeSync(fd);
  return buffer.subarray(0, n).toString('utf8').split('\n')[0].replace(/\r$/, '').split(';');
};
const columns = [...header(extract), ...header(returned)].filter((c) => c !== 'insz');
const read = (path) => pl.scanCSV(path, { sep: ';', inferSchemaLength: 0 });
const kbi = read(extract).unique({ subset: 'insz', keep: 'first', maintainOrder: true });
const joined = read(returned).join(kbi, { on: 'insz', how: 'inner' }).select(columns);
(await joined.collect()).writeCSV(output, { separator: ';' });

// The job of `domain_bench merge` in DuckDB (2 threads): read both files as text, keep the first
// row of a repeated INSZ, inner join on insz, drop insz, write ';' CSV.
//   node duckdb_merge.mjs RETURN EXTRACT OUTPUT
import { DuckDBInstance } from '@duckdb/node-api';

const [returned, extract, output] = process.argv.slice(2);
const quote = (path) => `'${path.replaceAll("'", "''")}'`;
const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
const db = await instance.connect();
const csv = (path) => `read_csv(${quote(path)}, delim=';', header=true, all_varchar=true, quote='"')`;
// A table keeps file order in rowid, so "first" means the same as in kbix and pandas.
await db.run(`CREATE TABLE kbi AS SELECT * FROM ${csv(extract)}`);
await db.run(`COPY (
  SELECT k.* EXCLUDE (insz, rowid_), v.* EXCLUDE (insz)
  FROM ${csv(returned)} v
  JOIN (SELECT *, rowid AS rowid_ FROM kbi QUALIFY row_number() OVER (PARTITION BY insz ORDER BY rowid) = 1) k
  USING (insz)
) TO ${quote(output)} (HEADER, DELIMITER ';')`);

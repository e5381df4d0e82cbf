import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataFormatError, OptionError, ShapeError } from "../src/core/errors.js";
import { parseCsv, parseCsvTable } from "../src/data/csv.js";
import { loadCsv } from "../src/data/csvFile.js";
import * as bc from "../src/index.js";

describe("parseCsv", () => {
  it("reads a header, numeric features and string labels (sorted to class indices)", () => {
    const d = parseCsv("sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n4.9,1.5,setosa\n");
    expect([d.n, d.features, d.shape, d.classes]).toEqual([4, 2, [2], 3]);
    expect(d.classNames).toEqual(["setosa", "versicolor", "virginica"]);
    expect(Array.from(d.y)).toEqual([0, 1, 2, 0]);
    expect(Array.from(d.x)).toEqual(Array.from(Float32Array.from([5.1, 1.4, 7.0, 4.7, 6.3, 6.0, 4.9, 1.5])));
  });

  it("reads a file without a header: integer labels in the last column by default", () => {
    const d = parseCsv("0,0.5,3\n1,-2e-1,0\n", {});
    expect([d.n, d.features, d.classes, d.classNames]).toEqual([2, 2, 4, undefined]);
    expect(Array.from(d.y)).toEqual([3, 0]);
    expect(Array.from(d.x)).toEqual(Array.from(Float32Array.from([0, 0.5, 1, -0.2])));
  });

  it("takes the label column by name or index (negative from the end), with a shape and a class count", () => {
    const text = "label,a,b,c,d\n2,1,2,3,4\n0,5,6,7,8\n";
    const byName = parseCsv(text, { label: "label", shape: [2, 2, 1], classes: 5 });
    expect([byName.shape, byName.classes, Array.from(byName.y), Array.from(byName.x)]).toEqual([
      [2, 2, 1],
      5,
      [2, 0],
      [1, 2, 3, 4, 5, 6, 7, 8],
    ]);
    const byIndex = parseCsv(text, { label: 0 });
    expect(Array.from(byIndex.y)).toEqual([2, 0]);
    const fromEnd = parseCsv(text, { label: -5, header: true });
    expect(Array.from(fromEnd.x)).toEqual(Array.from(byIndex.x));
    const last = parseCsv(text, { label: -1 }); // d is the label: 4 and 8
    expect([last.classes, Array.from(last.y)]).toEqual([9, [4, 8]]);
  });

  it("orders string labels by the classes given, and treats a header-less first row as data", () => {
    const d = parseCsv("1,2,dog\n3,4,cat\n5,6,dog\n", { classes: ["dog", "cat", "eel"], header: false });
    expect([d.classes, d.classNames, Array.from(d.y)]).toEqual([3, ["dog", "cat", "eel"], [0, 1, 0]]);
    const auto = parseCsv("1,2,dog\n3,4,cat\n");
    expect([auto.n, auto.classNames]).toEqual([2, ["cat", "dog"]]);
    // names that look like numbers stay names when classes lists them
    const signs = parseCsv("x,y\n0.5,-1\n0.25,1\n", { classes: ["-1", "1"] });
    expect(Array.from(signs.y)).toEqual([0, 1]);
  });

  it("handles quoting, a BOM, blank lines, spaces, tabs and bytes", () => {
    const text = '\uFEFF"a, first","b""",label\n\n 1 , 2 , x \n3,4,"y\nz"\n';
    const d = parseCsv(new TextEncoder().encode(text));
    expect([Array.from(d.x), d.classNames]).toEqual([
      [1, 2, 3, 4],
      ["x", "y\nz"],
    ]);
    expect(Array.from(parseCsv("a\tb\tl\n1\t2\t0\n", { delimiter: "\t" }).x)).toEqual([1, 2]);
  });

  it("names the line, row and column of a value that is not a number", () => {
    const text = "a,b,label\n1,2,cat\n3,oops,dog\n";
    expect(() => parseCsv(text, {}, "pets.csv")).toThrow(DataFormatError);
    expect(() => parseCsv(text, {}, "pets.csv")).toThrow(
      /pets\.csv: line 3 \(data row 2\), column index 1 \("b"\): expected a number, found "oops"/,
    );
    for (const cell of ["0x10", "0b1", "Infinity", "1e400", "1,5"])
      expect(() => parseCsv(`a,b,l\n1,"${cell}",0\n`), cell).toThrow(
        `expected a number, found ${JSON.stringify(cell)}`,
      );
    expect(parseCsv("a,b,l\n-.5,+2.,1\n1E-3,7,0\n").x).toEqual(Float32Array.of(-0.5, 2, 0.001, 7));
    expect(() => parseCsv("1,,0\n", { header: false })).toThrow(
      /line 1 \(data row 1\), column index 1: expected a number, found ""/,
    );
    expect(() => parseCsv('a,b,l\n"1\n",x,0\n')).toThrow(/line 2 \(data row 1\), column index 1 \("b"\)/); // the row starts on line 2
    expect(() => parseCsv("a,b\n1,\n", { header: true })).toThrow(
      /column index 1 \("b"\): expected a label, found an empty cell/,
    );
  });

  it("reads the feature columns by header name (columns), in any order; the label is the column left over", () => {
    const columns = ["a", "b", "c"];
    const inOrder = bc.data.parseCsvTable("a,b,c,y\n1,2,3,cat\n4,5,6,dog\n");
    expect(inOrder.featureNames).toEqual(columns);
    for (const text of ["c,y,a,b\n3,cat,1,2\n6,dog,4,5\n", "y,b,c,a\ncat,2,3,1\ndog,5,6,4\n"]) {
      const d = parseCsv(text, { columns });
      expect(Array.from(d.x)).toEqual(Array.from(inOrder.set.x));
      expect([Array.from(d.y), d.classNames]).toEqual([
        [0, 1],
        ["cat", "dog"],
      ]);
    }
    expect(parseCsv("y,c,b,a\ncat,3,2,1\n", { columns, label: "y" }).x).toEqual(Float32Array.of(1, 2, 3)); // a named label
    expect(parseCsvTable("1,2,0\n3,4,1\n").featureNames).toBeNull();
    expect(parseCsv("2,1,0\n", { columns: ["b", "a"] }).x).toEqual(Float32Array.of(2, 1)); // no header: file order
    expect(() => parseCsv("a,c,y\n1,3,0\n", { columns })).toThrow(
      /expected the feature columns "a", "b", "c", found no column named "b"/,
    );
    expect(() => parseCsv("a,b,c,y,z\n1,2,3,0,0\n", { columns })).toThrow(
      /found also "y", "z"[\s\S]*name the label column/,
    );
    expect(() => parseCsv("a,b,c,y,z\n1,2,3,0,0\n", { columns, label: "y" })).toThrow(/found also "z"/);
    expect(() => parseCsv("a,b,c,y\n1,2,3,0\n", { columns, label: "a" })).toThrow(
      /the label column index 0 \("a"\) is one of the feature columns/,
    );
    expect(() => parseCsv("a,b,y\n1,2,0\n", { columns: "a" as never })).toThrow(
      /expected columns to be a list of distinct column names/,
    );
    expect(() => parseCsv("a,b,y\n1,2,0\n", { columns: ["a", "a"] })).toThrow(/list of distinct column names/);
    expect(() => parseCsv("a,b,a,y\n1,2,3,0\n", { columns: ["a", "b"] })).toThrow(
      /the header names the column "a" twice/,
    );
  });

  it("rejects malformed files and bad options with what was expected", () => {
    expect(() => parseCsv("a,b,c\n1,2\n")).toThrow(/expected well-formed CSV, found: .*Record Length/);
    expect(() => parseCsv('a,"b\n')).toThrow(/Quote Not Closed/);
    expect(() => parseCsv("")).toThrow(/expected rows of comma-separated values, found none/);
    expect(() => parseCsv("a,b,c\n")).toThrow(/expected data rows after the header, found none/);
    expect(() => parseCsv("1;2;3\n")).toThrow(
      /expected at least 2 columns[\s\S]*hint: if the fields are not separated by commas, pass delimiter/,
    );
    expect(() => parseCsv("1,2,0\n", { shape: [3] })).toThrow(ShapeError);
    expect(() => parseCsv("1,2,0\n", { label: "y" })).toThrow(/expected data rows after the header/);
    expect(() => parseCsv("a,b\n1,0\n", { label: "y" })).toThrow(/expected a column named "y", found columns "a", "b"/);
    expect(() => parseCsv("1,2,0\n", { label: "y", header: false })).toThrow(OptionError);
    expect(() => parseCsv("1,2,0\n", { label: 3 })).toThrow(/column index in -3\.\.2, found 3/);
    expect(() => parseCsv("1,2,5\n", { classes: 3 })).toThrow(
      /line 1 \(data row 1\), column index 2: expected a class index in 0\.\.2, found 5/,
    );
    expect(() => parseCsv("1,2,cow\n", { classes: ["cat"] })).toThrow(/expected one of the classes "cat", found "cow"/);
    expect(() => parseCsv("1,2,cow\n", { classes: 2 })).toThrow(/classes is 2, but the labels are 1 class names/);
    expect(() => parseCsv("1,2,0\n", { header: "yes" as unknown as boolean })).toThrow(OptionError);
    expect(() => parseCsv("1,2,0\n", { lable: 0 } as never)).toThrow(/unknown CSV option "lable"/);
  });
});

describe("loadCsv", () => {
  it("reads a file, naming it in errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bc-csv-"));
    const path = join(dir, "data.csv");
    writeFileSync(path, "f1,f2,y\n0.5,1,b\n2,3,a\n");
    const d = await loadCsv(path, { label: "y" });
    expect([d.n, d.classNames, Array.from(d.y), Array.from(d.x)]).toEqual([2, ["a", "b"], [1, 0], [0.5, 1, 2, 3]]);
    const table = await bc.data.loadCsvTable(path, { columns: ["f2", "f1"] });
    expect([table.featureNames, Array.from(table.set.x)]).toEqual([
      ["f2", "f1"],
      [1, 0.5, 3, 2],
    ]);
    writeFileSync(path, "f1,f2,y\n0.5,x,b\n");
    await expect(loadCsv(path)).rejects.toThrow(
      /data\.csv: line 2 \(data row 1\), column index 1 \("f2"\): expected a number, found "x"/,
    );
    await expect(loadCsv(join(dir, "missing.csv"))).rejects.toThrow(/cannot read .*missing\.csv/);
  });
});

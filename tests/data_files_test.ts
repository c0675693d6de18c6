import assert from "node:assert/strict";

const DATA = new URL("./data/", import.meta.url);

async function sha256(url: URL): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", await Deno.readFile(url));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function filesUnder(url: URL, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(url)) {
    const path = prefix + entry.name;
    if (entry.isDirectory) out.push(...filesUnder(new URL(`${entry.name}/`, url), `${path}/`));
    else out.push(path);
  }
  return out;
}

Deno.test("tests/data holds exactly the files SHA256SUMS lists, each with its checksum", async () => {
  const listed = new Map(
    Deno.readTextFileSync(new URL("SHA256SUMS", DATA)).trim().split("\n").map((line) => {
      const [sum, path] = line.split(/\s+/, 2);
      return [path, sum] as const;
    }),
  );
  const present = filesUnder(DATA).filter((p) => p !== "README.md" && p !== "SHA256SUMS").sort();
  assert.deepEqual(present, [...listed.keys()].sort());
  for (const [path, sum] of listed) assert.equal(await sha256(new URL(path, DATA)), sum, path);
});

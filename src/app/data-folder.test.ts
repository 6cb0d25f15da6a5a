import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makePrivate, preparePrivateFolder } from './data-folder.ts';

const mode = async (at: string) => (await fs.lstat(at)).mode & 0o777;
const made: string[] = [];
afterEach(async () => {
  // The shell's usual umask again (setting one also reads the old, without the deprecated no-argument call).
  process.umask(0o022);
  for (const dir of made.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});
const tempDir = async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'seckill-private-'));
  made.push(dir);
  return dir;
};

describe('the private data folder', () => {
  it('a folder left open by an earlier start is repaired: folders 0700, files 0600, deep down too', async () => {
    const dir = await tempDir();
    await fs.mkdir(path.join(dir, 'pg', 'base', '1'), { recursive: true });
    await fs.chmod(path.join(dir, 'pg'), 0o755);
    await fs.chmod(path.join(dir, 'pg', 'base'), 0o777);
    await fs.writeFile(path.join(dir, 'pg', 'base', '1', '1259'), 'x');
    await fs.chmod(path.join(dir, 'pg', 'base', '1', '1259'), 0o666);
    await fs.writeFile(path.join(dir, 'token-secret'), 's', { mode: 0o644 });
    await fs.chmod(path.join(dir, 'token-secret'), 0o644);

    expect(await makePrivate(dir)).toBeGreaterThanOrEqual(4);
    for (const folder of [dir, path.join(dir, 'pg'), path.join(dir, 'pg', 'base'), path.join(dir, 'pg', 'base', '1')]) expect(await mode(folder)).toBe(0o700);
    for (const file of [path.join(dir, 'pg', 'base', '1', '1259'), path.join(dir, 'token-secret')]) expect(await mode(file)).toBe(0o600);
    expect(await makePrivate(dir)).toBe(0);
  });

  it('a symbolic link is not followed: what it points to outside the folder keeps its mode', async () => {
    const [dir, outside] = [await tempDir(), await tempDir()];
    await fs.writeFile(path.join(outside, 'shared'), 'x');
    await fs.chmod(path.join(outside, 'shared'), 0o644);
    await fs.chmod(outside, 0o755);
    await fs.symlink(outside, path.join(dir, 'to-folder'));
    await fs.symlink(path.join(outside, 'shared'), path.join(dir, 'to-file'));
    await makePrivate(dir);
    expect(await mode(path.join(outside, 'shared'))).toBe(0o644);
    expect(await mode(outside)).toBe(0o755);
  });

  it('after preparing, files written with mode 0666 (as PGlite writes them) and new folders are private', async () => {
    process.umask(0o022);
    const dir = path.join(await tempDir(), 'data');
    await preparePrivateFolder(dir);
    await fs.mkdir(path.join(dir, 'pg'));
    await fs.writeFile(path.join(dir, 'pg', 'PG_VERSION'), '17', { mode: 0o666 });
    expect([await mode(dir), await mode(path.join(dir, 'pg')), await mode(path.join(dir, 'pg', 'PG_VERSION'))]).toEqual([0o700, 0o700, 0o600]);
  });
});

/**
 * The embedded mode's data folder holds the database files, password hashes and the token secret: this user
 * only. New files are private through the process umask (set before the first write, since PGlite creates its
 * files 0666 and leaves the rest to the umask); a folder written by an earlier version is repaired at start.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export const PRIVATE_UMASK = 0o077;
const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;

/** Set the umask, create the folder if it is missing, and take group and other access off everything in it. */
export async function preparePrivateFolder(dir: string): Promise<{ repaired: number }> {
  process.umask(PRIVATE_UMASK);
  await fs.mkdir(dir, { recursive: true, mode: FOLDER_MODE });
  return { repaired: await makePrivate(dir) };
}

/** Folders 0700, files 0600 (symbolic links are left alone: they are not followed); the number changed. */
export async function makePrivate(dir: string): Promise<number> {
  let changed = 0;
  const fix = async (at: string, mode: number, want: number) => {
    if ((mode & 0o777) === want) return;
    await fs.chmod(at, want);
    changed++;
  };
  await fix(dir, (await fs.stat(dir)).mode, FOLDER_MODE);
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await fs.readdir(folder, { withFileTypes: true })) {
      const at = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        await fix(at, (await fs.lstat(at)).mode, FOLDER_MODE);
        await walk(at);
      } else if (entry.isFile()) {
        await fix(at, (await fs.lstat(at)).mode, FILE_MODE);
      }
    }
  };
  await walk(dir);
  return changed;
}

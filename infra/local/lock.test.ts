import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockHeldError, acquireLock } from './lock.js';

/** A pid that certainly belongs to no running process: one that just exited. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  return Number(pid);
}

describe('start lock', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lock-test-'));
    file = path.join(dir, 'start.lock');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a second holder while the first is alive, naming its pid and router URL', () => {
    // The holder is the parent process: alive for the whole test, and not us.
    const first = acquireLock(file, { routerUrl: 'http://localhost:4000/graphql' }, process.ppid);
    let error: unknown;
    try {
      acquireLock(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as Error).message).toContain(`pid ${process.ppid}`);
    expect((error as Error).message).toContain('http://localhost:4000/graphql');
    // The first holder's record is untouched.
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(process.ppid);
    first.release();
    expect(fs.existsSync(file)).toBe(false);
  });

  it('is free again after release', () => {
    const lock = acquireLock(file);
    lock.release();
    expect(fs.existsSync(file)).toBe(false);
    acquireLock(file).release();
  });

  it('takes over a stale lock (dead pid) and reports the old record', () => {
    const stale = { pid: deadPid(), startedAt: 'then', children: [{ name: 'redis-server', pid: 1, match: 'x' }] };
    fs.writeFileSync(file, JSON.stringify(stale));
    const lock = acquireLock(file);
    expect(lock.staleHolder?.pid).toBe(stale.pid);
    expect(lock.staleHolder?.children?.[0]?.name).toBe('redis-server');
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over an unreadable lock file', () => {
    fs.writeFileSync(file, 'garbage');
    const lock = acquireLock(file);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('update() rewrites the record in place', () => {
    const lock = acquireLock(file);
    lock.update({ routerUrl: 'http://localhost:4999/graphql' });
    const info = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(info).toMatchObject({ pid: process.pid, routerUrl: 'http://localhost:4999/graphql' });
    lock.release();
  });
});

// src/common/sea.ts outside a single executable: everything falls through to plain Node behaviour.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SQLITE_ADDON, runningAsSea, seaAsset, sqliteBindingOption, sqliteNativeBinding } from '../../src/common/sea.ts';

describe('sea.ts when not running as a SEA', () => {
  it('reports no SEA, no assets and no native binding', () => {
    expect(runningAsSea()).toBe(false);
    expect(seaAsset(SQLITE_ADDON.gzipAsset)).toBeUndefined();
    expect(sqliteNativeBinding({ dataDir: '/nonexistent' })).toBeUndefined();
    expect(sqliteBindingOption()).toEqual({});
  });

  it('lets better-sqlite3 load its own prebuild', () => {
    const db = new Database(':memory:', { ...sqliteBindingOption(), timeout: 1000 });
    try {
      expect(db.prepare('SELECT 1 + 1 AS two').get()).toEqual({ two: 2 });
    } finally {
      db.close();
    }
  });
});

-- An admin may pause a sale (buyers hear PAUSED) and edit it. `revision` grows with every edit, pause or
-- resume, so an api process that hears of changes out of order (a broadcast and a refresh of its goods
-- list crossing) keeps the newest and never goes back to an older state.
ALTER TABLE seckill_goods ADD COLUMN paused BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE seckill_goods ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;

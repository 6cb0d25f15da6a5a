-- Every pay of an order is an attempt on its intent: opening the intent (again) raises `attempt` and moves
-- `charge_by` to that attempt's charge expiry, before the charge request leaves. The provider takes nothing
-- for a request that reaches it after its expiry, so once `charge_by` has passed no charge of the intent can
-- still land, and the reconciler may trust the provider's "no charge". It abandons an intent only if
-- `attempt` is still the one it read: a pay that started meanwhile keeps its intent.
-- Intents open from before have no expiry: they count from when they were opened, as they did.
ALTER TABLE payment_intents ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE payment_intents ADD COLUMN charge_by TIMESTAMPTZ;
UPDATE payment_intents SET charge_by = created_at;
ALTER TABLE payment_intents ALTER COLUMN charge_by SET NOT NULL;
DROP INDEX payment_intents_open;
CREATE INDEX payment_intents_open ON payment_intents (charge_by) WHERE status = 'OPEN';

-- An @connections command stays until its worker says it delivered it; `sent_on` names the
-- config stream it was last handed to, so a stream never sends it twice and the worker's next
-- stream sends it again should that one have died with it.
ALTER TABLE websocket_commands ADD COLUMN sent_on text;

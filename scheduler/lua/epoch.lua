-- Ends a rebuild of the admission state: dk:epoch is set only if the marker
-- written when the rebuild began is still there, so a Redis flushed again
-- during the rebuild is never declared complete.
-- KEYS: {dk:epoch}:rebuilding (same cluster slot as dk:epoch), dk:epoch
-- ARGV: token of this rebuild, the master's history (master_replid) it was
-- rebuilt on, which book.lua admits against
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[2])
return 1

# Reads Sidekiq's view of the data (REDIS_URL) with Sidekiq's own API: jids per queue and per set.
$VERBOSE = nil
require "json"
require "sidekiq"
require "sidekiq/api"
out = { "queues" => {}, "retry" => [], "dead" => [] }
Sidekiq::Queue.all.each { |q| out["queues"][q.name] = q.map { |j| { "jid" => j.jid, "klass" => j.klass, "args" => j.args, "enqueued_at" => j.enqueued_at&.to_f, "retry_count" => j["retry_count"] } } }
Sidekiq::RetrySet.new.each { |j| out["retry"] << { "jid" => j.jid, "queue" => j.queue } }
Sidekiq::DeadSet.new.each { |j| out["dead"] << { "jid" => j.jid, "queue" => j.queue } }
puts JSON.generate(out)

# Writes Sidekiq data with Sidekiq's own client and API (Debian's ruby-sidekiq),
$VERBOSE = nil
ENV["SIDEKIQ_SILENCE"] = "1"
# then prints Sidekiq's own counts as JSON. REDIS_URL names the server.
require "json"
require "sidekiq"
require "sidekiq/api"
require "sidekiq/job_retry"
require "sidekiq/launcher"

Sidekiq.logger.level = Logger::WARN

class HardJob
  include Sidekiq::Worker
  def perform(*); end
end

now = Time.now.to_f
# Waiting jobs on two queues; "mailers" pushed 120 s ago (enqueued_at is set by the client).
3.times { |i| Sidekiq::Client.push("class" => HardJob, "queue" => "default", "args" => [i]) }
2.times { |i| Sidekiq::Client.push("class" => "Mailer", "queue" => "mailers", "args" => ["x#{i}"]) }
# The oldest "default" job: enqueued 2 minutes ago.
Sidekiq.redis do |c|
  oldest = c.lindex("queue:default", -1)
  job = JSON.parse(oldest)
  job["enqueued_at"] = now - 120
  c.lset("queue:default", -1, JSON.generate(job))
end
# Scheduled for later.
Sidekiq::Client.push("class" => HardJob, "queue" => "default", "args" => ["later"], "at" => now + 3600)
# Retries, through Sidekiq's own retry logic: two due now-ish on default, one on mailers.
retrier = Sidekiq::JobRetry.new
%w[default default mailers].each_with_index do |q, i|
  msg = { "class" => "HardJob", "queue" => q, "args" => ["r#{i}"], "jid" => SecureRandom.hex(12), "retry" => 5,
          "created_at" => now - 600, "enqueued_at" => now - 300 }
  begin
    retrier.send(:attempt_retry, nil, msg, q, RuntimeError.new("boom #{i}"))
  rescue => e
    warn e.full_message
  end
end
# Dead jobs, through the morgue.
%w[default mailers mailers].each_with_index do |q, i|
  payload = Sidekiq.dump_json("class" => "HardJob", "queue" => q, "args" => ["d#{i}"], "jid" => SecureRandom.hex(12),
                              "retry_count" => 25, "enqueued_at" => now - 900, "error_message" => "gave up")
  Sidekiq::DeadSet.new.kill(payload, notify_failure: false)
end
# A live process with one job in flight, and a dead one whose heartbeat expired.
launcher_opts = Sidekiq.respond_to?(:options) ? Sidekiq.options.merge(queues: %w[default mailers], concurrency: 2) : {}
%w[alive dead].each do |which|
  launcher = Sidekiq::Launcher.new(launcher_opts)
  ident = "host-#{which}:#{Process.pid}:#{SecureRandom.hex(6)}"
  launcher.define_singleton_method(:identity) { ident }
  Sidekiq::Processor::WORKER_STATE.clear
  if which == "alive"
    Sidekiq::Processor::WORKER_STATE.set("tid-1", { queue: "default", payload: { "class" => "HardJob", "jid" => "inflight0000000000000000", "queue" => "default", "args" => [] }, run_at: now.to_i })
  end
  launcher.send(:❤)
  Sidekiq.redis { |c| c.unlink(launcher.identity) } if which == "dead"
end
Sidekiq::Processor::WORKER_STATE.clear

counts = {}
Sidekiq::Queue.all.each do |q|
  counts[q.name] = {
    "waiting" => q.size,
    "delayed" => Sidekiq::ScheduledSet.new.count { |j| j.queue == q.name },
    "retry" => Sidekiq::RetrySet.new.count { |j| j.queue == q.name },
    "dead" => Sidekiq::DeadSet.new.count { |j| j.queue == q.name },
    "active" => Sidekiq::WorkSet.new.count { |_p, _t, w| w["queue"] == q.name },
    "latency" => q.latency,
  }
end
processes = Sidekiq.redis { |c| c.smembers("processes") }.sort
alive = []
Sidekiq::ProcessSet.new(false).each { |p| alive << p.identity }
puts JSON.generate("queues" => counts, "processes" => processes, "alive" => alive)

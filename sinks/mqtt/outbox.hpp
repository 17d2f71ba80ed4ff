#pragma once

// At-least-once bookkeeping for a publisher that handles delivery reports one at a time (an
// actor): a bounded queue of messages not yet acknowledged by the broker. Messages reported as
// not delivered (connection lost, client stopped) go back to the front of the queue and are
// published again, counted as resends. Not thread-safe: one owner calls every member; the
// client's callbacks must be forwarded to that owner (e.g. as actor messages), never applied from
// the Paho thread directly.

#include "sinks/mqtt/client.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

namespace wattline::mqtt {

/// Messages waiting for the broker's acknowledgement.
class outbox {
public:
  /// Counters of the outbox.
  struct counters {
    /// Messages pushed.
    uint64_t pushed = 0;
    /// Messages the broker acknowledged.
    uint64_t delivered = 0;
    /// Publishes of a message after a failed attempt (possible duplicates at the broker).
    uint64_t resent = 0;
    /// Messages dropped because the client called them invalid (bad topic or QoS).
    uint64_t invalid = 0;
    /// Pushes refused because the outbox was full.
    uint64_t refused = 0;
  };

  /// What `apply` found.
  struct applied {
    /// The report belonged to a message of this outbox.
    bool known = false;
    /// The broker has the message (it left the outbox).
    bool delivered = false;
    /// `message::tag` of the message.
    uint64_t tag = 0;
  };

  /// At most `capacity` messages (pending plus in flight).
  explicit outbox(size_t capacity = 100'000);

  /// Appends a message; false (and counted in `refused`) when full.
  bool push(message m);

  /// Publishes pending messages in order until the client refuses one (not connected, window
  /// full, stopped); returns how many were handed over. Messages the client calls invalid (bad
  /// topic) leave the outbox, counted in `invalid`; their tags are appended to `invalid_tags`
  /// when given, so that the owner can account for them.
  size_t pump(client& c, std::vector<uint64_t>* invalid_tags = nullptr);

  /// Applies a delivery report from `c`: delivered messages leave, failed ones go back to the
  /// front of the queue (published again by the next `pump`).
  applied apply(const delivery_report& r);

  /// Messages not handed to the client yet (including those to resend).
  [[nodiscard]] size_t pending() const { return pending_.size(); }
  /// Messages handed to the client and not reported yet.
  [[nodiscard]] size_t in_flight() const { return in_flight_.size(); }
  /// pending() + in_flight().
  [[nodiscard]] size_t size() const { return pending_.size() + in_flight_.size(); }
  /// True when every message was delivered.
  [[nodiscard]] bool empty() const { return size() == 0; }
  /// The counters.
  [[nodiscard]] const counters& stats() const { return stats_; }

private:
  size_t capacity_;
  std::deque<message> pending_;
  std::unordered_map<token, message> in_flight_;
  counters stats_;
};

} // namespace wattline::mqtt

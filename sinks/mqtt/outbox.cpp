#include "sinks/mqtt/outbox.hpp"

namespace wattline::mqtt {

outbox::outbox(size_t capacity) : capacity_(capacity) {}

bool outbox::push(message m) {
  if (size() >= capacity_) {
    ++stats_.refused;
    return false;
  }
  ++stats_.pushed;
  pending_.push_back(std::move(m));
  return true;
}

size_t outbox::pump(client& c, std::vector<uint64_t>* invalid_tags) {
  size_t sent = 0;
  while (!pending_.empty()) {
    message& m = pending_.front();
    auto r = c.publish(m);
    if (!r) {
      if (r.error == publish_error::invalid) {
        ++stats_.invalid;
        if (invalid_tags != nullptr)
          invalid_tags->push_back(m.tag);
        pending_.pop_front();
        continue;
      }
      break; // not connected, window full, stopped: try again on the next event
    }
    if (m.attempt > 0)
      ++stats_.resent;
    in_flight_.emplace(r.id, std::move(m));
    pending_.pop_front();
    ++sent;
  }
  return sent;
}

outbox::applied outbox::apply(const delivery_report& r) {
  auto it = in_flight_.find(r.id);
  if (it == in_flight_.end())
    return {};
  applied a{true, r.delivered, it->second.tag};
  if (r.delivered) {
    ++stats_.delivered;
  } else {
    it->second.attempt++;
    pending_.push_front(std::move(it->second));
  }
  in_flight_.erase(it);
  return a;
}

} // namespace wattline::mqtt

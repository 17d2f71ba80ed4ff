#include "engine/log.hpp"
#include "engine/runtime/graph.hpp"
#include "engine/status/status_server.hpp"

namespace wattline::runtime {

struct status_endpoint::impl {
  std::shared_ptr<status::metrics_registry> registry = std::make_shared<status::metrics_registry>(
      status::build_info{WATTLINE_VERSION_STRING, "", ""});
  std::unique_ptr<status::status_server> server;
  std::string address;
};

status_endpoint::status_endpoint() : impl_(std::make_unique<impl>()) {}

status_endpoint::~status_endpoint() {
  stop();
}

status::metrics_registry& status_endpoint::registry() {
  return *impl_->registry;
}

bool status_endpoint::update(const engine_settings& engine,
                             const std::function<void(int)>& on_listening) {
  auto address = engine.status_address == "off" ? std::string{} : engine.status_address;
  if (impl_->server && address == impl_->address)
    return true;
  stop();
  impl_->address = address;
  if (address.empty())
    return true;
  auto server = std::make_unique<status::status_server>(impl_->registry, address);
  if (auto err = server->start()) {
    log::error("engine", "status endpoint: " + *err +
                             " (set engine.status_address to another host:port, or off)");
    return false;
  }
  log::info("engine", "status on http://" + server->endpoint() + "/health and /metrics");
  if (on_listening)
    on_listening(server->port());
  impl_->server = std::move(server);
  return true;
}

void status_endpoint::stop() {
  if (impl_->server) {
    impl_->server->stop();
    impl_->server.reset();
  }
}

} // namespace wattline::runtime

#include "engine/component.hpp"

#include <algorithm>

namespace wattline {

const char* to_string(data_kind k) {
  switch (k) {
  case data_kind::none:
    return "none";
  case data_kind::bytes:
    return "bytes";
  case data_kind::records:
    return "records";
  }
  return "none";
}

const char* to_string(component_role r) {
  switch (r) {
  case component_role::source:
    return "source";
  case component_role::transform:
    return "transform";
  case component_role::sink:
    return "sink";
  }
  return "source";
}

const char* to_string(option_type t) {
  switch (t) {
  case option_type::string:
    return "string";
  case option_type::integer:
    return "integer";
  case option_type::number:
    return "number";
  case option_type::boolean:
    return "boolean";
  case option_type::string_list:
    return "list of strings";
  case option_type::any:
    return "map";
  }
  return "string";
}

component_registry& component_registry::instance() {
  static component_registry r;
  return r;
}

bool component_registry::add(component_descriptor d) {
  items_.push_back(std::move(d));
  return true;
}

const component_descriptor* component_registry::find(component_role role,
                                                     std::string_view type) const {
  for (const auto& d : items_)
    if (d.role == role && d.type == type)
      return &d;
  return nullptr;
}

std::vector<const component_descriptor*> component_registry::all(bool include_hidden) const {
  std::vector<const component_descriptor*> out;
  for (const auto& d : items_)
    if (include_hidden || !d.hidden)
      out.push_back(&d);
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) {
    return a->role != b->role ? a->role < b->role : a->type < b->type;
  });
  return out;
}

std::vector<std::string> component_registry::types(component_role role) const {
  std::vector<std::string> out;
  for (const auto* d : all())
    if (d->role == role)
      out.push_back(d->type);
  return out;
}

} // namespace wattline

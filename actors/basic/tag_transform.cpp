// `tag` transform: adds or overwrites tags on every record (e.g. site, building), passing
// records through otherwise.

#include "engine/component.hpp"
#include "engine/node_api.hpp"
#include "engine/pipeline_spec.hpp"
#include "engine/yaml_location.hpp"

namespace wattline::transforms {
namespace {

using tag_list = std::vector<std::pair<std::string, std::string>>;

tag_list read_tags(const YAML::Node& node) {
  tag_list out;
  if (auto tags = node["tags"]; tags && tags.IsMap())
    for (auto it = tags.begin(); it != tags.end(); ++it)
      out.emplace_back(it->first.Scalar(), it->second.Scalar());
  return out;
}

class tag_instance final : public component_instance {
public:
  explicit tag_instance(const node_spec& spec) : tags_(read_tags(spec.opts.raw())) {}

  bool on_batch(batch& b, node_context& ctx) override {
    for (auto& r : b.records)
      for (const auto& [k, v] : tags_)
        r.set_tag(k, v);
    ctx.emit(std::move(b));
    return true;
  }

private:
  tag_list tags_;
};

component_descriptor describe_tag() {
  component_descriptor d;
  d.type = "tag";
  d.role = component_role::transform;
  d.summary = "Adds or overwrites tags on every record.";
  d.input = data_kind::records;
  d.output = data_kind::records;
  d.options = {
      {.name = "tags",
       .type = option_type::any,
       .doc = "Map of tag names to values.",
       .required = true},
  };
  d.check = [](const YAML::Node& node, const options&, const std::string& file,
               diagnostics& diags) {
    auto tags = node["tags"];
    if (!tags || !tags.IsMap()) {
      diags.error("option 'tags' must be a map of tag names to values",
                  location_of(tags ? tags : node, file), "e.g. tags: { site: home }");
      return;
    }
    for (auto it = tags.begin(); it != tags.end(); ++it)
      if (!it->second.IsScalar())
        diags.error("tag '" + it->first.Scalar() + "' must have a scalar value",
                    location_of(it->second, file));
  };
  d.make = [](const node_spec& s) { return std::make_unique<tag_instance>(s); };
  return d;
}

} // namespace
} // namespace wattline::transforms

WATTLINE_REGISTER_COMPONENT(wattline::transforms::describe_tag)

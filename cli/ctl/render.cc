#include "cli/ctl/render.h"

#include <fmt/core.h>
#include <fmt/format.h>

namespace minivpn::ctl {

namespace {

using vici::Section;

// A value as swanctl prints it: the value, or a list's items joined by spaces; "" if absent.
std::string Get(const Section& s, std::string_view key) {
  if (const auto* v = s.Find({key})) return *v;
  if (const auto* l = s.FindList({key})) return fmt::format("{}", fmt::join(*l, " "));
  return {};
}
bool Has(const Section& s, std::string_view key) {
  return s.Find({key}) != nullptr || s.FindList({key}) != nullptr;
}

// "(0x0000000c)" after an SPI: the SA's mark, its mask when not all ones.
std::string Mark(const Section& c, std::string_view dir) {
  const std::string mark = Get(c, fmt::format("mark-{}", dir));
  if (mark.empty()) return {};
  const std::string mask = Get(c, fmt::format("mark-mask-{}", dir));
  return fmt::format(" (0x{}{})", mark, mask.empty() ? "" : "/0x" + mask);
}

// A child's rekeying as swanctl's list_conns prints it: "rekeying every 3600s or 1000 bytes or
// 10 packets", only the limits that are set; "no rekeying" without any.
std::string ChildRekeying(const Section& child) {
  std::string every;
  for (const auto& [key, unit] : {std::pair{"rekey_time", "s"}, std::pair{"rekey_bytes", " bytes"},
                                  std::pair{"rekey_packets", " packets"}}) {
    const std::string value = Get(child, key);
    if (value.empty() || value == "0") continue;
    every += fmt::format("{}{}{}", every.empty() ? " " : " or ", value, unit);
  }
  return every.empty() ? "no rekeying" : "rekeying every" + every;
}

void RenderChild(std::string& out, const Section& c) {
  out += fmt::format("  {}: #{}, reqid {}, {}, {}{}, {}:", Get(c, "name"), Get(c, "uniqueid"),
                     Get(c, "reqid"), Get(c, "state"), Get(c, "mode"),
                     Has(c, "encap") ? "-in-UDP" : "", Get(c, "protocol"));
  std::string algs = Get(c, "encr-alg");
  if (Has(c, "encr-keysize")) algs += "-" + Get(c, "encr-keysize");
  if (Has(c, "integ-alg")) algs += (algs.empty() ? "" : "/") + Get(c, "integ-alg");
  if (Has(c, "dh-group")) algs += "/" + Get(c, "dh-group");
  if (Has(c, "esn")) algs += "/ESN";
  out += algs + "\n";
  out += fmt::format("    installed {}s ago", Get(c, "install-time"));
  if (Has(c, "rekey-time")) out += fmt::format(", rekeying in {}s", Get(c, "rekey-time"));
  if (Has(c, "life-time")) out += fmt::format(", expires in {}s", Get(c, "life-time"));
  out += "\n";
  for (const char* dir : {"in", "out"}) {
    out += fmt::format("    {:<3} {}{}, {:>6} bytes, {:>5} packets", dir,
                       Get(c, fmt::format("spi-{}", dir)), Mark(c, dir),
                       Get(c, fmt::format("bytes-{}", dir)), Get(c, fmt::format("packets-{}", dir)));
    if (Has(c, fmt::format("use-{}", dir))) {
      out += fmt::format(", {:>5}s ago", Get(c, fmt::format("use-{}", dir)));
    }
    out += "\n";
  }
  out += fmt::format("    local  {}\n", Get(c, "local-ts"));
  out += fmt::format("    remote {}\n", Get(c, "remote-ts"));
}

void RenderIke(std::string& out, const std::string& name, const Section& ike) {
  const bool initiator = Get(ike, "initiator") == "yes";
  out += fmt::format("{}: #{}, {}, IKEv{}, {}_i{} {}_r{}\n", name, Get(ike, "uniqueid"),
                     Get(ike, "state"), Get(ike, "version"), Get(ike, "initiator-spi"),
                     initiator ? "*" : "", Get(ike, "responder-spi"), initiator ? "" : "*");
  out += fmt::format("  local  '{}' @ {}[{}]\n", Get(ike, "local-id"), Get(ike, "local-host"),
                     Get(ike, "local-port"));
  out += fmt::format("  remote '{}' @ {}[{}]\n", Get(ike, "remote-id"), Get(ike, "remote-host"),
                     Get(ike, "remote-port"));
  if (Has(ike, "encr-alg")) {
    std::string algs = Get(ike, "encr-alg");
    if (Has(ike, "encr-keysize")) algs += "-" + Get(ike, "encr-keysize");
    if (Has(ike, "integ-alg")) algs += "/" + Get(ike, "integ-alg");
    out += fmt::format("  {}/{}/{}\n", algs, Get(ike, "prf-alg"), Get(ike, "dh-group"));
  }
  if (Has(ike, "established")) {
    out += fmt::format("  established {}s ago", Get(ike, "established"));
    if (Has(ike, "rekey-time")) out += fmt::format(", rekeying in {}s", Get(ike, "rekey-time"));
    if (Has(ike, "reauth-time")) out += fmt::format(", reauth in {}s", Get(ike, "reauth-time"));
    out += "\n";
  }
  if (const auto* children = ike.FindSection({"child-sas"})) {
    for (const auto& e : children->elements) {
      if (const auto* child = e.section()) RenderChild(out, *child);
    }
  }
}

}  // namespace

std::string RenderSas(const std::vector<vici::Message>& list_sa_events) {
  std::string out;
  for (const auto& event : list_sa_events) {
    for (const auto& e : event.elements) {
      if (const auto* ike = e.section()) RenderIke(out, e.name, *ike);
    }
  }
  return out.empty() ? "no IKE_SAs\n" : out;
}

std::string RenderLinks(const std::vector<vici::Message>& list_link_events) {
  std::string out;
  for (const auto& event : list_link_events) {
    for (const auto& e : event.elements) {
      const auto* link = e.section();
      if (link == nullptr) continue;
      std::string children;
      if (const auto* list = link->FindList("children")) {
        for (const auto& c : *list) children += (children.empty() ? "" : ", ") + c;
      }
      out += fmt::format("{} ({}, for {}): {} for {}s", e.name, Get(*link, "kind"), children,
                         Get(*link, "state"), Get(*link, "since"));
      if (Has(*link, "reason")) out += ": " + Get(*link, "reason");
      out += "\n";
    }
  }
  return out;
}

std::string RenderConns(const std::vector<vici::Message>& list_conn_events) {
  std::string out;
  for (const auto& event : list_conn_events) {
    for (const auto& e : event.elements) {
      const auto* conn = e.section();
      if (conn == nullptr) continue;
      const std::string rekey = Get(*conn, "rekey_time");
      const std::string reauth = Get(*conn, "reauth_time");
      out += fmt::format(
          "{}: {}, {}, {}\n", e.name, Get(*conn, "version"),
          reauth.empty() || reauth == "0" ? "no reauthentication"
                                          : fmt::format("reauthentication every {}s", reauth),
          rekey == "0" ? "no rekeying" : fmt::format("rekeying every {}s", rekey));
      out += fmt::format("  local:  {}\n", Get(*conn, "local_addrs"));
      out += fmt::format("  remote: {}\n", Get(*conn, "remote_addrs"));
      for (const auto& side : conn->elements) {
        const auto* auth = side.section();
        if (auth == nullptr || !(side.name.starts_with("local") || side.name.starts_with("remote")))
          continue;
        out += fmt::format("  {} {} authentication:\n",
                           side.name.starts_with("local") ? "local" : "remote",
                           Has(*auth, "class") ? Get(*auth, "class") : "unspecified");
        if (Has(*auth, "id")) out += fmt::format("    id: {}\n", Get(*auth, "id"));
      }
      const auto* children = conn->FindSection({"children"});
      for (std::size_t i = 0; children && i < children->elements.size(); ++i) {
        const auto& ce = children->elements[i];
        const auto* child = ce.section();
        if (child == nullptr) continue;
        out += fmt::format("  {}: {}, {}", ce.name, Get(*child, "mode"), ChildRekeying(*child));
        // minivpnd's own keys: the VTI's marks and the start action.
        if (Has(*child, "mark_in") || Has(*child, "mark_out")) {
          out += fmt::format(", mark in {}, out {}", Get(*child, "mark_in"), Get(*child, "mark_out"));
        }
        if (Has(*child, "start_action")) out += ", start " + Get(*child, "start_action");
        out += "\n";
        out += fmt::format("    local:  {}\n", Get(*child, "local-ts"));
        out += fmt::format("    remote: {}\n", Get(*child, "remote-ts"));
      }
    }
  }
  return out.empty() ? "no connections\n" : out;
}

std::string RenderStats(const vici::Message& reply) {
  std::string out;
  for (const char* group : {"exchanges", "retransmits", "failures"}) {
    const auto* s = reply.FindSection({group});
    if (s == nullptr) continue;
    out += fmt::format("{}:\n", group);
    for (const auto& e : s->elements) {
      if (const auto* v = e.value()) out += fmt::format("  {:<28} {}\n", e.name, *v);
    }
  }
  for (const char* key : {"ike-sas", "half-open", "child-sas", "uptime"}) {
    if (Has(reply, key)) out += fmt::format("{:<30} {}\n", key, Get(reply, key));
  }
  return out;
}

std::string RenderExplain(const vici::Message& reply) {
  std::string out = fmt::format("{}: IKE_SA #{} key derivation\n", Get(reply, "name"),
                                Get(reply, "uniqueid"));
  if (const auto* lines = reply.FindList({"text"})) {
    for (const auto& line : *lines) out += line + "\n";
  }
  return out;
}

std::string RenderReload(const vici::Message& reply) {
  std::string out = "reloaded:";
  const char* sep = " ";
  for (const char* key : {"added", "removed", "changed", "unchanged"}) {
    const auto* names = reply.FindList({key});
    const std::size_t n = names ? names->size() : 0;
    out += fmt::format("{}{} {}", sep, n, key);
    if (n > 0) out += fmt::format(" ({})", fmt::join(*names, ", "));
    sep = ", ";
  }
  return out + "\n";
}

nlohmann::json ToJson(const vici::Section& section) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& e : section.elements) {
    if (const auto* v = e.value()) {
      out[e.name] = *v;
    } else if (const auto* l = e.list()) {
      out[e.name] = *l;
    } else if (const auto* s = e.section()) {
      out[e.name] = ToJson(*s);
    }
  }
  return out;
}

}  // namespace minivpn::ctl

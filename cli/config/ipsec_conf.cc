// Legacy ipsec.conf(5) (strongSwan 5.9 starter syntax) into the model.
//
// Syntax: a section starts in column 1 ("config setup", "conn <name>", "ca <name>"); its
// parameters are the following indented "key=value" lines; '#' after whitespace starts a
// comment; "include <glob>" (column 1) reads other files relative to this one. "conn %default"
// supplies defaults; "also=<conn>" appends another conn's parameters (own values win). Only conns
// with auto=add|route|start are loaded (auto=ignore is the default).
//
// Defaults and conversions follow ipsec.conf(5) and charon's stroke plugin (stroke_config.c):
//   ikelifetime [3h], lifetime/keylife [1h], margintime/rekeymargin [9m], rekeyfuzz [100%]:
//     IKE:   reauth_time (reauth=yes, the default) or rekey_time (reauth=no) =
//            ikelifetime - margintime, over_time = margintime,
//            rand_time = margintime * rekeyfuzz / 100
//     CHILD: life_time = lifetime, rekey_time = lifetime - margintime,
//            rand_time = margintime * rekeyfuzz / 100; the same for lifebytes/marginbytes and
//            lifepackets/marginpackets [no limit]
//   dpdaction [none] (none disables DPD: dpd_delay = 0), dpddelay [30s], dpdtimeout [150s]
//   (dpdtimeout only matters for IKEv1; IKEv2 gives up with the retransmission schedule);
//   ike=/esp= without a trailing '!' get the default proposals appended (as charon does);
//   leftid defaults to left, rightid to right; leftsubnet defaults to left/32 (dynamic);
//   mark=<v>[/<m>] sets mark_in and mark_out, default mask 0xffffffff.
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "cli/config/charon_keys.h"
#include "cli/config/loaders.h"
#include "cli/config/proposal.h"
#include "cli/config/values.h"

namespace minivpn::config {
namespace {

constexpr int kMaxIncludeDepth = 10;

struct Param {
  std::string key;
  std::string value;
  Location where;
  Location value_where;
};

struct Section {
  std::string type;  // config, conn, ca
  std::string name;
  Location where;
  std::vector<Param> params;
};

bool ValidConnName(std::string_view name) {
  if (name == "%default") return true;
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

// What a diagnostic may quote of an unexpected line: its first word, up to '=' (a parameter's
// name, never its value, which may be a pasted secret).
std::string_view FirstWord(std::string_view text) {
  const auto end = text.find_first_of(" \t=\"'");
  return text.substr(0, end);
}

class Reader {
 public:
  Reader(std::vector<Section>& sections, Diagnostics& d) : sections_(sections), d_(d) {}

  void ReadFile(const std::string& path, int depth, const Location& from) {
    const Location where = from.file.empty() ? Location{path, 0, 0} : from;
    if (auto refused = guard_.Enter(path)) {
      if (!refused->empty()) d_.Error(where, *refused);
      return;
    }
    ReadLines(path, depth, where);
    guard_.Leave();
  }

  void ReadLines(const std::string& path, int depth, const Location& where) {
    std::string text;
    std::string error;
    if (!config::ReadFile(path, text, error)) {
      d_.Error(where, fmt::format("cannot read '{}': {}", path, error));
      return;
    }
    d_.HideSecretsOf(text);
    int line_no = 0;
    std::size_t pos = text.starts_with("\xef\xbb\xbf") ? 3 : 0;  // UTF-8 BOM
    while (pos <= text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      ++line_no;
      ReadLine(std::string_view(text).substr(pos, end - pos), path, line_no, depth);
      pos = end + 1;
    }
  }

 private:
  void ReadLine(std::string_view line, const std::string& path, int line_no, int depth) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Strip a comment: '#' at the start or after whitespace, outside quotes.
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '"') quoted = !quoted;
      if (line[i] == '#' && !quoted && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        line = line.substr(0, i);
        break;
      }
    }
    if (Trim(line).empty()) return;
    bool indented = line[0] == ' ' || line[0] == '\t';
    std::size_t indent = line.find_first_not_of(" \t");
    Location where{path, line_no, static_cast<int>(indent) + 1};
    std::string_view body = Trim(line);
    if (!indented) {
      Header(body, where, depth);
      return;
    }
    if (current_ < 0) {
      d_.Error(where,
               "parameter outside of a section (expected 'conn <name>' or "
               "'config setup' first)");
      return;
    }
    Section& section = sections_[static_cast<std::size_t>(current_)];
    std::size_t eq = body.find('=');
    std::size_t key_end = body.find_first_of(" \t=");
    std::string key(body.substr(0, key_end));
    if (key.empty()) {
      d_.Error(where, "expected a parameter name before '='");
      return;
    }
    if (eq == std::string_view::npos || Trim(body.substr(0, eq)) != key) {
      d_.Error(where, fmt::format("expected '=' after '{}'", FirstWord(key)));
      return;
    }
    std::string_view raw = body.substr(eq + 1);
    std::size_t lead = raw.find_first_not_of(" \t");
    if (lead == std::string_view::npos) lead = 0;
    Location value_where{path, line_no, where.column + static_cast<int>(eq + 1 + lead)};
    std::string_view value = Trim(raw);
    if (!value.empty() && value.front() == '"') {
      std::size_t close = value.find('"', 1);
      if (close == std::string_view::npos) {
        d_.Error(value_where, fmt::format("unterminated quoted value of '{}'", key));
        return;
      }
      if (!Trim(value.substr(close + 1)).empty()) {
        d_.Error(value_where, fmt::format("unexpected text after the quoted value of '{}'", key));
        return;
      }
      value = value.substr(1, close - 1);
    }
    if (key != "also") {
      for (const auto& p : section.params) {
        if (p.key == key) {
          d_.Error(where, fmt::format("duplicate parameter '{}' in {} '{}' (first set at line {})",
                                      key, section.type, section.name, p.where.line));
          return;
        }
      }
    }
    section.params.push_back(Param{key, std::string(value), where, value_where});
  }

  void Header(std::string_view body, const Location& where, int depth) {
    std::size_t sp = body.find_first_of(" \t");
    std::string_view type = body.substr(0, sp);
    std::string_view name = sp == std::string_view::npos ? "" : Trim(body.substr(sp));
    if (type == "include") {
      Include(std::string(name), where, depth);
      return;
    }
    if (type == "version") {  // "version 2" of old files
      current_ = -1;
      return;
    }
    if ((type == "conn" || type == "ca" || type == "config") && !name.empty()) {
      if (type == "config" && name != "setup") {
        d_.Error(where, fmt::format("unknown config section '{}' (expected 'config setup')", name));
      } else if (type == "conn" && !ValidConnName(name)) {
        d_.Error(where, fmt::format("invalid conn name '{}' (a letter, then letters, digits, "
                                    "'.', '_' or '-')",
                                    name));
      } else if (name != "%default" || type != "conn") {
        for (const auto& s : sections_) {
          if (s.type == type && s.name == name && type != "config") {
            d_.Error(where, fmt::format("{} '{}' is defined twice (first at {}:{})", type, name,
                                        s.where.file, s.where.line));
          }
        }
      }
      sections_.push_back(Section{std::string(type), std::string(name), where, {}});
      current_ = static_cast<long>(sections_.size()) - 1;
      return;
    }
    current_ = -1;
    d_.Error(where, fmt::format("expected 'conn <name>', 'config setup', 'ca <name>' or "
                                "'include <file>' at the start of a line, found '{}' (parameters "
                                "must be indented)",
                                FirstWord(body)));
  }

  void Include(std::string pattern, const Location& where, int depth) {
    if (pattern.size() >= 2 && pattern.front() == '"' && pattern.back() == '"') {
      pattern = pattern.substr(1, pattern.size() - 2);
    }
    current_ = -1;
    if (depth >= kMaxIncludeDepth) {
      d_.Error(where, fmt::format("includes nested more than {} deep at '{}' (a loop?)",
                                  kMaxIncludeDepth, pattern));
      return;
    }
    bool is_pattern = false;
    auto files = ExpandInclude(pattern, DirName(where.file), is_pattern);
    if (files.empty() && !is_pattern) {
      d_.Error(where, fmt::format("cannot read included file '{}'", pattern));
    }
    for (const auto& f : files) {
      ReadFile(f, depth + 1, where);
      current_ = -1;
    }
  }

  std::vector<Section>& sections_;
  Diagnostics& d_;
  IncludeGuard guard_;
  long current_ = -1;
};

using Params = std::map<std::string, const Param*>;

// Own parameters, then also= conns (recursively), never overriding what is already set.
void Collect(const Section& conn, const std::vector<Section>& all, Params& out,
             std::set<std::string>& stack, std::set<std::string>& also_targets, Diagnostics& d) {
  stack.insert(conn.name);
  std::vector<const Param*> alsos;
  for (const auto& p : conn.params) {
    if (p.key == "also") {
      alsos.push_back(&p);
    } else {
      out.emplace(p.key, &p);
    }
  }
  for (const Param* a : alsos) {
    also_targets.insert(a->value);
    const Section* target = nullptr;
    for (const auto& s : all) {
      if (s.type == "conn" && s.name == a->value) target = &s;
    }
    if (target == nullptr) {
      d.Error(a->value_where, fmt::format("also={} names a conn that does not exist", a->value));
    } else if (stack.contains(target->name)) {
      d.Error(a->value_where, fmt::format("also={} creates a loop", a->value));
    } else if (target->name == "%default") {
      d.Error(a->value_where, "also=%default is not allowed");
    } else {
      Collect(*target, all, out, stack, also_targets, d);
    }
  }
  stack.erase(conn.name);
}

template <typename T>
bool Take(std::expected<T, std::string> r, T& out, const Param& p, Diagnostics& d) {
  if (!r) {
    d.Error(p.value_where, fmt::format("'{}': {}", p.key, r.error()));
    return false;
  }
  out = std::move(*r);
  return true;
}

Action LegacyAction(const Param& p, Diagnostics& d) {
  if (p.value == "none" || p.value == "clear") return Action::kNone;
  if (p.value == "hold") return Action::kTrap;
  if (p.value == "restart") return Action::kStart;
  d.Error(p.value_where, fmt::format("invalid value '{}' for '{}' (expected none, clear, hold or "
                                     "restart)",
                                     p.value, p.key));
  return Action::kNone;
}

bool HasConcrete(const std::vector<Host>& hosts, const std::function<bool(const IpAddress&)>& f) {
  for (const auto& h : hosts) {
    if (h.kind == Host::Kind::kAddress && f && f(h.subnet.address)) return true;
  }
  return false;
}

class ConnBuilder {
 public:
  ConnBuilder(const std::string& name, const Location& where, const Params& params, Diagnostics& d)
      : params_(params), d_(d) {
    conn_.name = name;
    conn_.where = where;
    conn_.dpd_timeout = Seconds(150);  // ipsec.conf(5): dpdtimeout [150s]
    conn_.keyingtries = 3;             // ipsec.conf(5): keyingtries [3]
    child_.name = name;
    child_.where = where;
  }

  std::optional<ConnectionConfig> Build(const std::function<bool(const IpAddress&)>& is_local) {
    std::vector<Host> left = Hosts("left");
    std::vector<Host> right = Hosts("right");
    bool right_local = !HasConcrete(left, is_local) && HasConcrete(right, is_local);
    std::string me = right_local ? "right" : "left";
    conn_.local_addrs = right_local ? right : left;
    conn_.remote_addrs = right_local ? left : right;
    // leftallowany (or "%host"): the side is that host or any other (stroke adds 0.0.0.0/0,::/0):
    // initiate to the host, answer from anywhere.
    for (const auto& [side, hosts] : {std::pair{std::string("left"), &left},
                                      std::pair{std::string("right"), &right}}) {
      if (!allow_any_.contains(side) || hosts->empty()) continue;
      const bool local_side = (side == "right") == right_local;
      (local_side ? conn_.local_addrs : conn_.remote_addrs).push_back(Host{});
    }
    for (const auto& [key, p] : params_) {
      if (p->value.empty()) continue;
      Handle(*p, me);
    }
    Lifetimes();
    ApplyProtoPort(local_protoport_, child_.local_ts, local_bracketed_);
    ApplyProtoPort(remote_protoport_, child_.remote_ts, remote_bracketed_);
    if (!ike_set_) conn_.proposals = DefaultIkeProposals();
    if (!esp_set_) child_.esp_proposals = DefaultEspProposals();
    if (mark_in_) child_.mark_in = *mark_in_;
    if (mark_out_) child_.mark_out = *mark_out_;
    if (vti_name_) {
      VtiConfig vti;
      vti.name = *vti_name_;
      vti.mtu = vti_mtu_;
      vti.routes = vti_routes_;
      vti.addrs = vti_addrs_;
      child_.vti = std::move(vti);
    }
    // ipsec.conf(5): rightid defaults to right (leftid to left is done in Validate()).
    if (conn_.remote_id.type == IdType::kAny && conn_.remote_addrs.size() == 1 &&
        conn_.remote_addrs[0].kind == Host::Kind::kAddress) {
      const IpAddress& a = conn_.remote_addrs[0].subnet.address;
      conn_.remote_id =
          Identity{a.is_v4() ? IdType::kIpv4Addr : IdType::kIpv6Addr,
                   std::string(reinterpret_cast<const char*>(a.bytes.data()), a.is_v4() ? 4 : 16)};
    }
    conn_.children.push_back(std::move(child_));
    return std::move(conn_);
  }

 private:
  std::vector<Host> Hosts(const std::string& key) {
    if (auto allow = params_.find(key + "allowany"); allow != params_.end()) {
      bool yes = false;
      if (Take(ParseBool(allow->second->value), yes, *allow->second, d_) && yes)
        allow_any_.insert(key);
    }
    std::vector<Host> out;
    auto it = params_.find(key);
    if (it == params_.end() || it->second->value.empty()) return out;
    for (auto item : SplitList(it->second->value)) {
      Host h;
      if (!item.empty() && item.front() == '%' && item != "%any" && item != "%any4" &&
          item != "%any6" && item != "%defaultroute") {
        item.remove_prefix(1);  // "%host" = host with leftallowany
        allow_any_.insert(key);
      }
      if (Take(ParseHost(item), h, *it->second, d_)) {
        if (h.kind != Host::Kind::kAny || h.any_family != 0) out.push_back(h);
      }
    }
    return out;
  }

  std::vector<Subnet> Subnets(const Param& p) {
    std::vector<Subnet> out;
    for (auto item : SplitList(p.value)) {
      Subnet s;
      if (Take(ParseSubnet(item), s, p, d_)) out.push_back(s);
    }
    return out;
  }

  // leftsubnet: subnets or %dynamic, each with an optional [proto/port]; `bracketed` tells which
  // named one.
  std::vector<Selector> Selectors(const Param& p, std::vector<bool>& bracketed) {
    std::vector<Selector> out;
    bracketed.clear();
    for (auto item : SplitList(p.value)) {
      Selector s;
      if (!Take(ParseTrafficSelector(item), s, p, d_)) continue;
      out.push_back(s);
      bracketed.push_back(item.find('[') != std::string_view::npos);
    }
    return out;
  }

  // stroke's add_ts: leftprotoport applies to each of that side's selectors without a "[...]" of
  // its own, the dynamic one included.
  void ApplyProtoPort(const std::optional<Selector>& protoport, std::vector<Selector>& list,
                      const std::vector<bool>& bracketed) {
    if (!protoport) return;
    if (list.empty()) list.push_back(Selector{});
    for (std::size_t i = 0; i < list.size(); ++i) {
      Selector& sel = list[i];
      if (i < bracketed.size() && bracketed[i]) continue;
      sel.proto = protoport->proto;
      sel.from_port = protoport->from_port;
      sel.to_port = protoport->to_port;
    }
  }

  void Handle(const Param& p, const std::string& me) {
    const std::string& k = p.key;
    std::string side = k.starts_with("left") ? "left" : k.starts_with("right") ? "right" : "";
    std::string rest = side.empty() ? k : k.substr(side.size());
    bool mine = side == me;
    // left=, right=, leftallowany= (read by Build before the others)
    if (!side.empty() && (rest.empty() || rest == "allowany")) return;
    if (!side.empty()) {
      if (rest == "id") {
        Take(ParseIdentity(p.value), mine ? conn_.local_id : conn_.remote_id, p, d_);
      } else if (rest == "subnet" || rest == "subnetwithin") {  // keywords.txt: one keyword
        (mine ? child_.local_ts : child_.remote_ts) =
            Selectors(p, mine ? local_bracketed_ : remote_bracketed_);
      } else if (rest == "protoport") {
        Selector sel;
        if (auto why = base::ParseProtoPort(p.value, sel)) {
          d_.Error(p.value_where, fmt::format("{}={}: {}", k, p.value, *why));
        } else {
          (mine ? local_protoport_ : remote_protoport_) = sel;
        }
      } else if (rest == "auth") {
        if (p.value != "psk" && p.value != "secret") {
          d_.Error(p.value_where, fmt::format("{}={} is not supported (minivpn authenticates "
                                              "with pre-shared keys only)",
                                              k, p.value));
        }
      } else if (rest == "ikeport") {
        std::uint64_t port = 0;
        if (Take(ParseUint(p.value, 65535), port, p, d_)) {
          (mine ? conn_.local_port : conn_.remote_port) = static_cast<std::uint16_t>(port);
        }
      } else if (rest == "vti") {
        if (mine) vti_name_ = p.value;
      } else if (rest == "updown") {
        if (mine) child_.updown = p.value;  // this host's script; the peer's is the peer's
      } else if (const CharonKey* known = FindCharonKey(IpsecSideKeys(), rest)) {
        ReportCharonKey(*known, k, p.value, "=", p.where, d_);
      } else {
        d_.Error(p.where, fmt::format("unknown parameter '{}' in conn '{}'", k, conn_.name));
      }
      return;
    }
    if (k == "keyexchange") {
      if (p.value == "ikev1") {
        d_.Error(p.value_where, "keyexchange=ikev1 is not supported; use keyexchange=ikev2");
      } else if (p.value != "ikev2" && p.value != "ike") {
        d_.Error(p.value_where, fmt::format("invalid value '{}' for 'keyexchange' (expected "
                                            "ikev2)",
                                            p.value));
      }
    } else if (k == "authby") {
      if (p.value != "secret" && p.value != "psk") {
        d_.Error(p.value_where, fmt::format("authby={} is not supported (minivpn authenticates "
                                            "with pre-shared keys only: authby=secret)",
                                            p.value));
      }
    } else if (k == "mark" || k == "mark_in" || k == "mark_out") {
      Mark m;
      if (Take(ParseMark(p.value), m, p, d_)) {
        if (k != "mark_out" && (k == "mark_in" || !mark_in_)) mark_in_ = m;
        if (k != "mark_in" && (k == "mark_out" || !mark_out_)) mark_out_ = m;
      }
    } else if (k == "ike") {
      ProposalList<IkeProposal> list;
      if (Take(ParseIkeProposals(p.value), list, p, d_)) {
        for (const auto& w : list.warnings) {
          d_.Warning(p.value_where, fmt::format("'{}': {}", p.key, w));
        }
        conn_.proposals = std::move(list.proposals);
        if (!list.strict) {
          for (auto& dp : DefaultIkeProposals()) conn_.proposals.push_back(std::move(dp));
        }
        ike_set_ = true;
      }
    } else if (k == "esp") {
      ProposalList<EspProposal> list;
      if (Take(ParseEspProposals(p.value), list, p, d_)) {
        for (const auto& w : list.warnings) {
          d_.Warning(p.value_where, fmt::format("'{}': {}", p.key, w));
        }
        child_.esp_proposals = std::move(list.proposals);
        if (!list.strict) {
          for (auto& dp : DefaultEspProposals()) child_.esp_proposals.push_back(std::move(dp));
        }
        esp_set_ = true;
      }
    } else if (k == "auto") {
      if (p.value == "add") {
        child_.start_action = StartAction::kNone;
      } else if (p.value == "route") {
        child_.start_action = StartAction::kTrap;
      } else if (p.value == "start") {
        child_.start_action = StartAction::kStart;
      } else if (p.value != "ignore") {
        d_.Error(p.value_where, fmt::format("invalid value '{}' for 'auto' (expected add, route, "
                                            "start or ignore)",
                                            p.value));
      }
    } else if (k == "dpdaction") {
      child_.dpd_action = LegacyAction(p, d_);
      dpd_none_ = p.value == "none";
    } else if (k == "closeaction") {
      child_.close_action = LegacyAction(p, d_);
    } else if (k == "dpddelay") {
      Take(ParseDuration(p.value, true), dpd_delay_, p, d_);
    } else if (k == "dpdtimeout") {
      Take(ParseDuration(p.value, true), conn_.dpd_timeout, p, d_);
    } else if (k == "ikelifetime") {
      Take(ParseDuration(p.value, true), ike_lifetime_, p, d_);
    } else if (k == "lifetime" || k == "keylife") {
      Take(ParseDuration(p.value, true), lifetime_, p, d_);
    } else if (k == "margintime" || k == "rekeymargin") {
      Take(ParseDuration(p.value, true), margin_, p, d_);
    } else if (k == "rekeyfuzz") {
      std::string_view v = p.value;
      if (!v.empty() && v.back() == '%') v.remove_suffix(1);
      auto fuzz = ParseUint(v, 100000);
      if (!fuzz) {
        d_.Error(p.value_where, fmt::format("'rekeyfuzz': invalid percentage '{}' (expected e.g. "
                                            "100%)",
                                            p.value));
      } else {
        fuzz_ = *fuzz;
      }
    } else if (k == "rekey") {
      Take(ParseBool(p.value), rekey_, p, d_);
    } else if (k == "reauth") {
      Take(ParseBool(p.value), reauth_, p, d_);
    } else if (k == "type") {
      if (p.value == "transport") {
        child_.transport = true;
      } else if (p.value != "tunnel") {
        d_.Error(p.value_where, fmt::format("type={} is not supported (tunnel or transport; "
                                            "minivpn builds no BEET, pass or drop CHILD_SAs)",
                                            p.value));
      }
    } else if (k == "mobike") {
      Take(ParseBool(p.value), conn_.mobike, p, d_);
    } else if (k == "forceencaps") {
      Take(ParseBool(p.value), conn_.encap, p, d_);
    } else if (k == "fragmentation") {
      if (p.value == "yes")
        conn_.fragmentation = Fragmentation::kYes;
      else if (p.value == "accept")
        conn_.fragmentation = Fragmentation::kAccept;
      else if (p.value == "force")
        conn_.fragmentation = Fragmentation::kForce;
      else if (p.value == "no")
        conn_.fragmentation = Fragmentation::kNo;
      else
        d_.Error(p.value_where, fmt::format("invalid value '{}' for 'fragmentation' (expected "
                                            "yes, accept, force or no)",
                                            p.value));
    } else if (k == "keyingtries") {
      std::uint64_t tries = 0;
      if (p.value == "%forever") {
        conn_.keyingtries = 0;
      } else if (Take(ParseUint(p.value, 0xffffffff), tries, p, d_)) {
        conn_.keyingtries = static_cast<std::uint32_t>(tries);
      }
    } else if (k == "replay_window" && p.value == "-1") {
      // ipsec.conf(5)'s default: charon.replay_window, whose own default is 32.
      child_.replay_window = base::charon::kReplayWindow;
    } else if (k == "reqid" || k == "replay_window") {
      // replay_window: the kernel keeps at most 4096 packets of replay state.
      std::uint64_t n = 0;
      if (Take(ParseUint(p.value, k == "reqid" ? 0xffffffff : 4096), n, p, d_)) {
        (k == "reqid" ? child_.reqid : child_.replay_window) = static_cast<std::uint32_t>(n);
      }
    } else if (k == "inactivity") {
      Take(ParseDuration(p.value, true), child_.inactivity, p, d_);
    } else if (k == "installpolicy") {
      Take(ParseBool(p.value), child_.policies, p, d_);
    } else if (k == "vti") {
      if (!vti_name_) vti_name_ = p.value;
    } else if (k == "vti_mtu") {
      std::uint64_t mtu = 0;
      if (Take(ParseUint(p.value, 65535), mtu, p, d_)) vti_mtu_ = static_cast<std::uint32_t>(mtu);
    } else if (k == "vti_routes") {
      vti_routes_ = Subnets(p);
    } else if (k == "vti_addrs") {
      vti_addrs_.clear();
      for (auto item : SplitList(p.value)) {
        Subnet a;
        if (Take(ParseInterfaceAddress(item), a, p, d_)) vti_addrs_.push_back(a);
      }
    } else if (k == "lifebytes" || k == "marginbytes" || k == "lifepackets" ||
               k == "marginpackets") {
      Take(ParseUint(p.value, UINT64_MAX), volume_[k], p, d_);
    } else if (const CharonKey* known = FindCharonKey(IpsecConnKeys(), k)) {
      ReportCharonKey(*known, k, p.value, "=", p.where, d_);
    } else {
      d_.Error(p.where, fmt::format("unknown parameter '{}' in conn '{}'", k, conn_.name));
    }
  }

  void Lifetimes() {
    const Location& w = conn_.where;
    if (margin_ >= ike_lifetime_ && rekey_) {
      d_.Error(w, fmt::format("conn '{}': margintime ({}s) must be less than ikelifetime ({}s)",
                              conn_.name, margin_.count(), ike_lifetime_.count()));
    }
    if (margin_ >= lifetime_ && rekey_) {
      d_.Error(w, fmt::format("conn '{}': margintime ({}s) must be less than lifetime ({}s)",
                              conn_.name, margin_.count(), lifetime_.count()));
    }
    Seconds jitter = margin_ * static_cast<std::int64_t>(fuzz_) / 100;
    conn_.over_time = margin_;
    conn_.rand_time = rekey_ ? jitter : Seconds(0);
    // starterstroke.c / stroke_config.c: the IKE lifetime is a reauthentication interval unless
    // reauth=no; rekey=no turns both off.
    const Seconds ike = rekey_ && ike_lifetime_ > margin_ ? ike_lifetime_ - margin_ : Seconds(0);
    conn_.rekey_time = reauth_ ? Seconds(0) : ike;
    conn_.reauth_time = reauth_ ? ike : Seconds(0);
    child_.life_time = lifetime_;
    child_.rekey_time = rekey_ && lifetime_ > margin_ ? lifetime_ - margin_ : Seconds(0);
    child_.rand_time = rekey_ ? jitter : Seconds(0);
    VolumeLifetime("bytes", child_.rekey_bytes, child_.life_bytes, child_.rand_bytes);
    VolumeLifetime("packets", child_.rekey_packets, child_.life_packets, child_.rand_packets);
    // stroke_config.c: "dpdaction=none disables DPD".
    conn_.dpd_delay = dpd_none_ ? Seconds(0) : dpd_delay_;
  }

  // stroke_config.c: life = life<unit>, rekey = life<unit> - margin<unit>, rand = margin<unit> *
  // rekeyfuzz / 100 (starter's margin defaults to 0); starterstroke.c sends none with rekey=no.
  // Where charon's unsigned arithmetic would wrap around, this is an error, as for margintime.
  void VolumeLifetime(const std::string& unit, std::uint64_t& rekey, std::uint64_t& life,
                      std::uint64_t& rand) {
    const std::string life_key = "life" + unit;
    const std::string margin_key = "margin" + unit;
    const std::uint64_t l = volume_[life_key];
    const std::uint64_t m = volume_[margin_key];
    if (!rekey_) return;
    if (l == 0) {
      if (m != 0) {
        d_.Warning(params_.at(margin_key)->where,
                   fmt::format("'{}' has no effect without {} (as in charon)", margin_key,
                               life_key));
      }
      return;
    }
    if (m >= l) {
      d_.Error(conn_.where, fmt::format("conn '{}': {} ({}) must be less than {} ({})",
                                        conn_.name, margin_key, m, life_key, l));
      return;
    }
    if (m == 0) {
      d_.Warning(conn_.where,
                 fmt::format("conn '{}': {} ({}) without {}: the soft limit is the hard limit, "
                             "so the SA expires after {} {} without a rekey (as in charon)",
                             conn_.name, life_key, l, margin_key, l, unit));
    }
    life = l;
    rekey = l - m;
    rand = fuzz_ != 0 && m > UINT64_MAX / fuzz_ ? UINT64_MAX : m * fuzz_ / 100;
    if (rand >= rekey) {
      d_.Error(conn_.where,
               fmt::format("conn '{}': {} x rekeyfuzz ({}) must be smaller than {} - {} ({})",
                           conn_.name, margin_key, rand, life_key, margin_key, rekey));
    }
  }

  const Params& params_;
  Diagnostics& d_;
  ConnectionConfig conn_;
  ChildConfig child_;
  std::optional<Mark> mark_in_, mark_out_;
  std::optional<std::string> vti_name_;
  std::uint32_t vti_mtu_ = 0;
  std::vector<Subnet> vti_routes_;
  std::vector<Subnet> vti_addrs_;
  std::optional<Selector> local_protoport_, remote_protoport_;
  std::vector<bool> local_bracketed_, remote_bracketed_;
  std::set<std::string> allow_any_;  // "left", "right": leftallowany / "%host"
  bool ike_set_ = false;
  bool esp_set_ = false;
  bool rekey_ = true;
  bool reauth_ = true;
  bool dpd_none_ = true;  // dpdaction defaults to none
  // lifebytes, marginbytes, lifepackets, marginpackets; 0 = not set (starter's default).
  std::map<std::string, std::uint64_t> volume_;
  Seconds dpd_delay_{30};
  Seconds ike_lifetime_{3 * 3600};
  Seconds lifetime_{3600};
  Seconds margin_{9 * 60};
  std::uint64_t fuzz_ = 100;
};

}  // namespace

void LoadIpsecConf(const std::string& path, Config& config, Diagnostics& d,
                   const std::function<bool(const IpAddress&)>& is_local) {
  std::vector<Section> sections;
  Reader reader(sections, d);
  reader.ReadFile(path, 0, Location{});

  Params defaults;
  std::set<std::string> also_targets;
  UniquePolicy unique = UniquePolicy::kReplace;  // ipsec.conf(5): uniqueids [yes]
  for (const auto& s : sections) {
    if (s.type == "config") {
      for (const auto& p : s.params) {
        if (p.key == "uniqueids") {
          if (p.value == "yes" || p.value == "replace") {
            unique = UniquePolicy::kReplace;
          } else if (p.value == "no") {
            unique = UniquePolicy::kNo;
          } else if (p.value == "never") {
            unique = UniquePolicy::kNever;
          } else if (p.value == "keep") {
            unique = UniquePolicy::kKeep;
          } else {
            d.Error(p.where, fmt::format("invalid value '{}' for 'uniqueids' (expected yes, no, "
                                         "never, replace or keep)",
                                         FirstWord(p.value)));
          }
        }
        static constexpr std::string_view kSetup[] = {
            "charondebug", "uniqueids",  "strictcrlpolicy",  "cachecrls",       "charonstart",
            "plutostart",  "plutodebug", "nat_traversal",    "virtual_private", "protostack",
            "keep_alive",  "interfaces", "crlcheckinterval", "nocrsend",
            // deprecated keywords charon's starter 5.9.8 still takes (and logs)
            "dumpdir", "klipsdebug", "prepluto", "postpluto", "plutostderrlog", "fragicmp",
            "packetdefault", "hidetos", "overridemtu", "force_keepalive", "pkcs11module",
            "pkcs11initargs", "pkcs11keepstate", "pkcs11proxy"};
        if (std::find(std::begin(kSetup), std::end(kSetup), p.key) == std::end(kSetup)) {
          d.Error(p.where, fmt::format("unknown parameter '{}' in config setup", p.key));
        }
      }
    } else if (s.type == "ca") {
      d.Warning(s.where, fmt::format("ca '{}' is accepted and ignored (minivpn uses pre-shared "
                                     "keys only)",
                                     s.name));
    } else if (s.name == "%default") {
      for (const auto& p : s.params) {
        if (p.key == "also") {
          d.Error(p.where, "also= is not allowed in conn %default");
        } else if (!defaults.emplace(p.key, &p).second) {
          d.Error(p.where, fmt::format("'{}' is set in more than one conn %default", p.key));
        }
      }
    }
  }
  struct Resolved {
    const Section* section;
    Params params;
  };
  std::vector<Resolved> conns;
  for (const auto& s : sections) {
    if (s.type != "conn" || s.name == "%default") continue;
    Params params;
    std::set<std::string> stack;
    Collect(s, sections, params, stack, also_targets, d);
    for (const auto& [k, p] : defaults) params.emplace(k, p);
    conns.push_back(Resolved{&s, std::move(params)});
  }
  for (auto& r : conns) {
    auto it = r.params.find("auto");
    bool ignored =
        it == r.params.end() || it->second->value == "ignore" || it->second->value.empty();
    if (ignored) {
      if (!also_targets.contains(r.section->name)) {
        d.Note(r.section->where, fmt::format("conn '{}' is not loaded: auto=ignore (the default); "
                                             "use auto=add, route or start",
                                             r.section->name));
      }
      continue;
    }
    ConnBuilder builder(r.section->name, r.section->where, r.params, d);
    if (auto c = builder.Build(is_local)) {
      c->unique = unique;
      config.connections.push_back(std::move(*c));
    }
  }
}

}  // namespace minivpn::config

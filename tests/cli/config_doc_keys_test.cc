// docs/config.md against the loaders (issue 21: what charon accepts, minivpnd accepts and does
// the same; a key it cannot honour is a clear error or warning). For the swanctl.conf sections
// connections.<conn>, local/remote and children.<child> and for ipsec.conf conn sections:
//
// - every key of charon 5.9.8 (the lists below, from swanctl.opt and starter's keywords.txt) and
//   every minivpn addition has a status on the page;
// - every key the page gives a status loads with it: a key of a table loads without a word, a
//   key of an "Accepted and ignored" list with a warning at its line that names it, a key of a
//   "Not supported" list with an error there that names it; each value the page puts in
//   parentheses after a listed key (charon's default, or a no-op) loads without a word;
// - the page's lists are cli/config/charon_keys.cc's tables: the same keys, statuses and silent
//   values.
//
// How the page is read: "### connections.\<conn\>", "### connections.\<conn\>.local / remote",
// "### connections.\<conn\>.children.\<child\>" and "## Legacy ipsec.conf" open the sections
// ("### minivpn addition: connections.\<conn\>.<key>" adds that key); in a section, the first
// column of a table whose header is "key" or "parameter" names keys, and so does a paragraph's
// text from "Accepted and ignored" or "Not supported" on, key by key (`key` (`silent`, ...; a
// remark)); after "per side" a key stands for left<key> and right<key>; ipsec.conf's "minivpn
// additions:" paragraph names keys as `key=...`.
//
// docs/charon-keys.md (charon 5.9.8's keys, their meaning and minivpn's status, section by
// section) against this page and the loaders: every key this page documents is in that page's
// table of the same section, every status there starts with an allowed word, and the word agrees
// with the loader (error there <=> the loader reports an error for a non-default value).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "cli/config/charon_keys.h"
#include "cli/config/config.h"
#include "cli/config/values.h"
#include "tests/cli/config_test_util.h"

namespace minivpn::config {
namespace {

using testing::Dump;
using testing::TempDir;

enum class Part { kNone, kConnection, kAuth, kChild, kIpsec };
enum class Status { kAccepted, kWarning, kError };

std::string Name(Part part) {
  switch (part) {
    case Part::kConnection: return "connections.<conn>";
    case Part::kAuth: return "connections.<conn>.local";
    case Part::kChild: return "connections.<conn>.children.<child>";
    case Part::kIpsec: return "ipsec.conf conn";
    case Part::kNone: break;
  }
  return "-";
}

std::string Name(Status status) {
  switch (status) {
    case Status::kAccepted: return "accepted";
    case Status::kWarning: return "warning";
    case Status::kError: return "error";
  }
  return "-";
}

struct Documented {
  Status status = Status::kAccepted;
  std::set<std::string> silent{};
};
using Page = std::map<Part, std::map<std::string, Documented>>;

// charon 5.9.8's keys: swanctl.opt (connections.<conn>, local|remote<suffix> without the
// cert<suffix> subsections, children.<child>) and keywords.txt's conn keywords (left/right ones
// once each, without their prefix: "" is left= and right=).
const std::map<Part, std::vector<std::string>> kCharonKeys = {
    {Part::kConnection,
     {"version", "local_addrs", "remote_addrs", "local_port", "remote_port", "proposals", "vips",
      "aggressive", "pull", "dscp", "encap", "mobike", "dpd_delay", "dpd_timeout",
      "fragmentation", "childless", "send_certreq", "send_cert", "ppk_id", "ppk_required",
      "keyingtries", "unique", "reauth_time", "rekey_time", "over_time", "rand_time", "pools",
      "if_id_in", "if_id_out", "mediation", "mediated_by", "mediation_peer"}},
    {Part::kAuth,
     {"round", "certs", "pubkeys", "auth", "id", "eap_id", "aaa_id", "xauth_id", "groups",
      "cert_policy", "cacerts", "ca_id", "revocation"}},
    {Part::kChild,
     {"ah_proposals", "esp_proposals", "sha256_96", "local_ts", "remote_ts", "rekey_time",
      "life_time", "rand_time", "rekey_bytes", "life_bytes", "rand_bytes", "rekey_packets",
      "life_packets", "rand_packets", "updown", "hostaccess", "mode", "policies",
      "policies_fwd_out", "dpd_action", "ipcomp", "inactivity", "reqid", "priority", "interface",
      "mark_in", "mark_in_sa", "mark_out", "set_mark_in", "set_mark_out", "if_id_in",
      "if_id_out", "label", "label_mode", "tfc_padding", "replay_window", "hw_offload",
      "copy_df", "copy_ecn", "copy_dscp", "start_action", "close_action"}},
    {Part::kIpsec,
     {"keyexchange", "type", "compress", "installpolicy", "aggressive", "authby", "eap_identity",
      "aaa_identity", "mobike", "forceencaps", "fragmentation", "ikedscp", "ikelifetime",
      "lifetime", "keylife", "rekeymargin", "margintime", "lifebytes", "marginbytes",
      "lifepackets", "marginpackets", "keyingtries", "rekeyfuzz", "rekey", "reauth", "ike", "esp",
      "ah", "dpddelay", "dpdtimeout", "dpdaction", "closeaction", "sha256_96", "inactivity",
      "modeconfig", "xauth", "xauth_identity", "mediation", "mediated_by", "me_peerid", "reqid",
      "replay_window", "mark", "mark_in", "mark_out", "tfc", "also", "auto", "pfs", "pfsgroup",
      "eap"}},
};
const std::vector<std::string> kCharonSideKeys = {
    "",       "ikeport",  "subnet",   "subnetwithin", "protoport", "sourceip", "dns",
    "firewall", "hostaccess", "allowany", "updown",   "auth",      "auth2",    "id",
    "id2",    "sigkey",   "rsasigkey", "cert",        "cert2",     "certpolicy", "sendcert",
    "ca",     "ca2",      "groups",   "groups2",      "nexthop"};
// minivpn's own keys (docs/config.md's additions).
const std::map<Part, std::vector<std::string>> kMinivpnKeys = {
    {Part::kConnection, {"wireshark_keys"}},
    {Part::kIpsec, {"vti", "leftvti", "rightvti", "vti_mtu", "vti_routes", "vti_addrs"}},
};

// A value to try for each key: one that a table key accepts, and for a listed key one that is
// not silent; `also` is another line the key needs beside it (a margin for a life value...).
struct Sample {
  std::string value;
  std::string also_key{};
  std::string also_value{};
};
const std::map<Part, std::map<std::string, Sample>> kSamples = {
    {Part::kConnection,
     {{"version", {"2"}}, {"local_addrs", {"192.0.2.1"}}, {"remote_addrs", {"198.51.100.1"}},
      {"local_port", {"500"}}, {"remote_port", {"4500"}},
      {"proposals", {"aes256gcm16-prfsha256-x25519"}}, {"encap", {"no"}}, {"mobike", {"no"}},
      {"dpd_delay", {"30s"}}, {"dpd_timeout", {"150s"}}, {"fragmentation", {"accept"}},
      {"send_certreq", {"no"}}, {"keyingtries", {"3"}}, {"unique", {"replace"}},
      {"reauth_time", {"0"}}, {"rekey_time", {"4h"}}, {"over_time", {"10m"}},
      {"rand_time", {"5m"}}, {"wireshark_keys", {"/var/lib/minivpn/wireshark"}},
      {"vips", {"0.0.0.0"}}, {"pools", {"pool"}}, {"aggressive", {"yes"}}, {"pull", {"no"}},
      {"dscp", {"101110"}}, {"childless", {"force"}}, {"send_cert", {"always"}},
      {"ppk_id", {"ppk"}}, {"ppk_required", {"yes"}}, {"if_id_in", {"5"}},
      {"if_id_out", {"5"}}, {"mediation", {"yes"}}, {"mediated_by", {"med"}},
      {"mediation_peer", {"peer"}}}},
    {Part::kAuth,
     {{"auth", {"psk"}}, {"id", {"routerA"}}, {"round", {"1"}}, {"certs", {"a.pem"}},
      {"cert", {"a.pem"}}, {"pubkeys", {"a.pub"}}, {"cacerts", {"ca.pem"}}, {"ca_id", {"ca"}},
      {"groups", {"admins"}}, {"cert_policy", {"1.3.6.1"}}, {"revocation", {"strict"}},
      {"eap_id", {"bob"}}, {"aaa_id", {"radius"}}, {"xauth_id", {"bob"}}}},
    {Part::kChild,
     {{"local_ts", {"10.1.0.0/16"}}, {"remote_ts", {"10.2.0.0/16"}}, {"mark_in", {"12"}},
      {"mark_out", {"12"}}, {"mark_in_sa", {"yes"}}, {"esp_proposals", {"aes256gcm16"}},
      {"start_action", {"trap"}}, {"dpd_action", {"restart"}}, {"close_action", {"trap"}},
      {"rekey_time", {"30m"}}, {"life_time", {"90m"}}, {"rand_time", {"5m"}},
      {"rekey_bytes", {"1G"}}, {"life_bytes", {"1500M", "rekey_bytes", "1G"}},
      {"rand_bytes", {"100M", "rekey_bytes", "1G"}}, {"rekey_packets", {"1000000"}},
      {"life_packets", {"1500000", "rekey_packets", "1000000"}},
      {"rand_packets", {"1000", "rekey_packets", "1000000"}}, {"inactivity", {"5m"}},
      {"mode", {"tunnel"}}, {"reqid", {"7"}}, {"replay_window", {"64"}}, {"policies", {"no"}},
      {"updown", {"/bin/true"}}, {"hw_offload", {"no"}}, {"ah_proposals", {"sha256"}},
      {"hostaccess", {"yes"}}, {"copy_df", {"no"}}, {"copy_ecn", {"no"}}, {"copy_dscp", {"in"}},
      {"policies_fwd_out", {"yes"}}, {"priority", {"100"}}, {"interface", {"eth0"}},
      {"set_mark_in", {"5"}}, {"set_mark_out", {"5"}}, {"if_id_in", {"5"}},
      {"if_id_out", {"5"}}, {"label", {"system_u:object_r:ipsec_spd_t:s0"}},
      {"label_mode", {"selinux"}}, {"per_cpu_sas", {"yes"}}, {"tfc_padding", {"mtu"}},
      {"ipcomp", {"yes"}}, {"sha256_96", {"yes"}}}},
    // Per-side keys without their prefix; left is this host (192.0.2.1).
    {Part::kIpsec,
     {{"keyexchange", {"ikev2"}}, {"left", {"192.0.2.1"}}, {"right", {"198.51.100.1"}},
      {"id", {"routerA"}}, {"subnet", {"10.1.0.0/16"}}, {"subnetwithin", {"10.1.0.0/16"}},
      {"auth", {"psk"}}, {"authby", {"secret"}}, {"ikeport", {"500"}}, {"mark", {"12"}},
      {"mark_in", {"12"}}, {"mark_out", {"12"}}, {"ike", {"aes256gcm16-prfsha256-x25519!"}},
      {"esp", {"aes256gcm16!"}}, {"auto", {"add"}}, {"dpdaction", {"restart"}},
      {"dpddelay", {"30s"}}, {"dpdtimeout", {"150s"}}, {"closeaction", {"hold"}},
      {"ikelifetime", {"2h"}}, {"lifetime", {"2h"}}, {"keylife", {"2h"}},
      {"margintime", {"5m"}}, {"rekeymargin", {"5m"}}, {"rekeyfuzz", {"50%"}},
      {"rekey", {"yes"}}, {"reauth", {"no"}}, {"type", {"tunnel"}}, {"mobike", {"no"}},
      {"fragmentation", {"yes"}}, {"forceencaps", {"no"}}, {"keyingtries", {"%forever"}},
      {"reqid", {"7"}}, {"replay_window", {"64"}}, {"inactivity", {"5m"}},
      {"installpolicy", {"yes"}}, {"lifebytes", {"1000000", "marginbytes", "100000"}},
      {"marginbytes", {"100000", "lifebytes", "1000000"}},
      {"lifepackets", {"1000", "marginpackets", "100"}},
      {"marginpackets", {"100", "lifepackets", "1000"}}, {"updown", {"/bin/true"}},
      {"allowany", {"yes"}}, {"also", {"extra"}}, {"vti", {"vti12", "mark", "12"}},
      {"leftvti", {"vti12", "mark", "12"}}, {"rightvti", {"vti12", "mark", "12"}},
      {"vti_mtu", {"1400"}}, {"vti_routes", {"10.2.0.0/16"}},
      {"vti_addrs", {"169.254.12.1/30"}}, {"aggressive", {"yes"}}, {"pfs", {"no"}},
      {"pfsgroup", {"modp2048"}}, {"eap", {"md5"}}, {"eap_identity", {"bob"}},
      {"aaa_identity", {"radius"}}, {"xauth", {"server"}}, {"xauth_identity", {"bob"}},
      {"modeconfig", {"push"}}, {"ikedscp", {"101110"}}, {"sendcert", {"always"}},
      {"nexthop", {"192.0.2.254"}}, {"firewall", {"yes"}}, {"hostaccess", {"yes"}},
      {"ah", {"sha256"}}, {"compress", {"yes"}}, {"sha256_96", {"yes"}}, {"tfc", {"%mtu"}},
      {"mediation", {"yes"}}, {"mediated_by", {"med"}}, {"me_peerid", {"peer"}},
      {"cert", {"a.pem"}}, {"cert2", {"a.pem"}}, {"ca", {"%same"}}, {"ca2", {"%same"}},
      {"certpolicy", {"1.3.6.1"}}, {"rsasigkey", {"%cert"}}, {"sigkey", {"%cert"}},
      {"groups", {"admins"}}, {"groups2", {"admins"}}, {"sourceip", {"%config"}},
      {"dns", {"192.0.2.53"}}, {"auth2", {"psk"}}, {"id2", {"bob"}},
      {"protoport", {"tcp/80"}}}},
};

std::string ReadDoc(const std::string& name) {
  std::ifstream in(std::string(MINIVPN_SOURCE_DIR) + "/docs/" + name);
  EXPECT_TRUE(in.good()) << MINIVPN_SOURCE_DIR << "/docs/" << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ReadPage() { return ReadDoc("config.md"); }

Part PartOf(const std::string& heading) {
  if (heading == "### connections.\\<conn\\>") return Part::kConnection;
  if (heading == "### connections.\\<conn\\>.local / remote") return Part::kAuth;
  if (heading == "### connections.\\<conn\\>.children.\\<child\\>") return Part::kChild;
  if (heading == "## Legacy ipsec.conf") return Part::kIpsec;
  return Part::kNone;
}

void Add(Page& page, Part part, const std::string& key, Documented doc) {
  auto [it, added] = page[part].emplace(key, doc);
  EXPECT_TRUE(added) << Name(part) << ": '" << key << "' has more than one status on the page";
}

// A paragraph's keys from "Accepted and ignored" / "Not supported" on.
void ReadLists(Page& page, Part part, const std::string& paragraph) {
  static const std::regex marker("Accepted and ignored|Not supported");
  static const std::regex item("`([^`]+)`(?:\\s*\\(([^()]*)\\))?|per side");
  static const std::regex value("`([^`]+)`");
  // Each status runs to the next marker.
  std::optional<Status> status;
  std::size_t from = 0;
  std::vector<std::pair<Status, std::string>> runs;
  for (auto it = std::sregex_iterator(paragraph.begin(), paragraph.end(), marker);
       it != std::sregex_iterator(); ++it) {
    const auto at = static_cast<std::size_t>(it->position());
    if (status) runs.emplace_back(*status, paragraph.substr(from, at - from));
    status = it->str() == "Not supported" ? Status::kError : Status::kWarning;
    from = at + static_cast<std::size_t>(it->length());
  }
  if (status) runs.emplace_back(*status, paragraph.substr(from));
  for (const auto& [st, run] : runs) {
    bool per_side = false;
    for (auto it = std::sregex_iterator(run.begin(), run.end(), item);
         it != std::sregex_iterator(); ++it) {
      if ((*it)[0] == "per side") {
        per_side = true;
        continue;
      }
      const std::string key = (*it)[1];
      if (!std::regex_match(key, std::regex("[a-z0-9_]+"))) continue;
      Documented doc{st, {}};
      const std::string remark = (*it)[2];
      const std::string values = remark.substr(0, remark.find(';'));
      for (auto v = std::sregex_iterator(values.begin(), values.end(), value);
           v != std::sregex_iterator(); ++v) {
        doc.silent.insert((*v)[1]);
      }
      if (per_side) {
        Add(page, part, "left" + key, doc);
        Add(page, part, "right" + key, doc);
      } else {
        Add(page, part, key, doc);
      }
    }
  }
}

Page ReadStatuses(const std::string& text) {
  Page page;
  Part part = Part::kNone;
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  bool in_code = false;
  bool key_table = false;
  std::string paragraph;
  const auto flush = [&] {
    if (part != Part::kNone) ReadLists(page, part, paragraph);
    if (part == Part::kIpsec && paragraph.starts_with("minivpn additions:")) {
      static const std::regex addition("`([a-z_]+)=");
      for (auto it = std::sregex_iterator(paragraph.begin(), paragraph.end(), addition);
           it != std::sregex_iterator(); ++it) {
        page[part].emplace((*it)[1], Documented{});  // `vti=` is named more than once
      }
    }
    paragraph.clear();
  };
  for (const auto& line : lines) {
    if (line.starts_with("```")) {
      in_code = !in_code;
      continue;
    }
    if (in_code) continue;
    if (line.starts_with("#")) {
      flush();
      part = PartOf(line);
      static const std::regex addition(
          "### minivpn addition: connections\\.\\\\<conn\\\\>\\.([a-z_]+)");
      std::smatch m;
      if (std::regex_match(line, m, addition)) Add(page, Part::kConnection, m[1], {});
      continue;
    }
    if (line.starts_with("|")) {
      flush();
      static const std::regex header("\\|\\s*(key|parameter)\\s*\\|.*");
      if (line.starts_with("|---")) continue;
      if (!line.starts_with("| `")) {
        key_table = std::regex_match(line, header);
        continue;
      }
      if (!key_table || part == Part::kNone) continue;
      const std::string first = line.substr(1, line.find('|', 1) - 1);
      static const std::regex key("`([a-z0-9_]+)`");
      for (auto it = std::sregex_iterator(first.begin(), first.end(), key);
           it != std::sregex_iterator(); ++it) {
        Add(page, part, (*it)[1], {});
      }
      continue;
    }
    if (line.empty()) {
      flush();
    } else {
      paragraph += (paragraph.empty() ? "" : " ") + line;
    }
  }
  flush();
  return page;
}

const Page& ThePage() {
  static const Page page = ReadStatuses(ReadPage());
  return page;
}

// The sample of `key` (a per-side ipsec.conf key by its name without left/right).
const Sample* SampleOf(Part part, const std::string& key) {
  const auto& samples = kSamples.at(part);
  if (auto it = samples.find(key); it != samples.end()) return &it->second;
  for (std::string side : {"left", "right"}) {
    if (key.starts_with(side) && samples.contains(key.substr(side.size()))) {
      return &samples.at(key.substr(side.size()));
    }
  }
  return nullptr;
}

// One file's lines of (key, value) per section; `Set` replaces a key or appends it.
struct Lines {
  std::vector<std::pair<std::string, std::string>> lines;
  void Set(const std::string& key, const std::string& value) {
    for (auto& [k, v] : lines) {
      if (k == key) {
        v = value;
        return;
      }
    }
    lines.emplace_back(key, value);
  }
};

struct Loaded {
  LoadResult result;
  int line = 0;  // the line of the key tried
};

Loaded LoadSwanctl(TempDir& dir, Part part, const std::string& key, const std::string& value,
                   const Sample* sample) {
  Lines conn{{{"local_addrs", "192.0.2.1"}, {"remote_addrs", "198.51.100.1"}}};
  Lines auth{{{"auth", "psk"}, {"id", "routerA"}}};
  Lines child{{{"local_ts", "0.0.0.0/0"}, {"remote_ts", "0.0.0.0/0"}}};
  Lines& mine = part == Part::kConnection ? conn : part == Part::kAuth ? auth : child;
  mine.Set(key, value);
  if (sample && !sample->also_key.empty()) mine.Set(sample->also_key, sample->also_value);
  std::string text = "connections {\n  gw {\n";
  int line = 2;
  int at = 0;
  const auto put = [&](const Lines& lines, const std::string& indent) {
    for (const auto& [k, v] : lines.lines) {
      text += indent + k + " = " + v + "\n";
      if (++line; k == key && &lines == &mine) at = line;
    }
  };
  put(conn, "    ");
  text += "    local {\n";
  ++line;
  put(auth, "      ");
  text += "    }\n    remote {\n      auth = psk\n      id = routerB\n    }\n"
          "    children {\n      net {\n";
  line += 7;
  put(child, "        ");
  text += "      }\n    }\n  }\n}\n"
          "secrets { ike-1 { id-a = routerA\n id-b = routerB\n secret = \"s3cret\" } }\n";
  return {LoadConfig(ConfigPaths{.swanctl_conf = dir.Write("swanctl.conf", text)}), at};
}

bool ThisHost(const IpAddress& a) { return a.ToString() == "192.0.2.1"; }

Loaded LoadIpsec(TempDir& dir, const std::string& key, const std::string& value,
                 const Sample* sample) {
  Lines conn{{{"left", "192.0.2.1"},
              {"right", "198.51.100.1"},
              {"leftid", "routerA"},
              {"rightid", "routerB"},
              {"auto", "add"}}};
  conn.Set(key, value);
  if (sample && !sample->also_key.empty()) conn.Set(sample->also_key, sample->also_value);
  std::string text = "conn t\n";
  int line = 1;
  int at = 0;
  for (const auto& [k, v] : conn.lines) {
    text += "  " + k + "=" + v + "\n";
    if (++line; k == key) at = line;
  }
  text += "conn extra\n  mobike=no\n";
  ConfigPaths paths;
  paths.ipsec_conf = dir.Write("ipsec.conf", text);
  paths.ipsec_secrets = dir.Write("ipsec.secrets", "routerA routerB : PSK \"s3cret\"\n");
  return {LoadConfig(paths, LoadOptions{ThisHost}), at};
}

Loaded Load(TempDir& dir, Part part, const std::string& key, const std::string& value) {
  const Sample* sample = SampleOf(part, key);
  return part == Part::kIpsec ? LoadIpsec(dir, key, value, sample)
                              : LoadSwanctl(dir, part, key, value, sample);
}

// What the loaders said about the key's line (nothing else may be wrong with the file).
std::optional<Status> StatusOf(const Loaded& loaded, const std::string& key) {
  std::optional<Status> status = Status::kAccepted;
  for (const auto& d : loaded.result.diagnostics) {
    if (d.severity == Severity::kNote) continue;
    const bool here = d.where.line == loaded.line && !d.where.file.ends_with(".secrets");
    const bool named = d.message.find("'" + key) != std::string::npos ||
                       d.message.find(key + "=") != std::string::npos;
    if (!here || !named) return std::nullopt;
    if (d.severity == Severity::kError) status = Status::kError;
    if (d.severity == Severity::kWarning && status == Status::kAccepted) status = Status::kWarning;
  }
  return status;
}

TEST(DocKeys, EveryCharonKeyAndAdditionHasAStatus) {
  const Page& page = ThePage();
  ASSERT_FALSE(page.empty());
  for (const auto& [part, keys] : kCharonKeys) {
    for (const auto& key : keys) {
      EXPECT_TRUE(page.contains(part) && page.at(part).contains(key))
          << Name(part) << ": charon's '" << key << "' has no status in docs/config.md";
    }
  }
  for (const auto& side : kCharonSideKeys) {
    for (std::string prefix : {"left", "right"}) {
      EXPECT_TRUE(page.at(Part::kIpsec).contains(prefix + side))
          << "ipsec.conf: charon's '" << prefix + side << "' has no status in docs/config.md";
    }
  }
  for (const auto& [part, keys] : kMinivpnKeys) {
    for (const auto& key : keys) {
      EXPECT_TRUE(page.at(part).contains(key)) << Name(part) << ": minivpn's '" << key << "'";
    }
  }
}

// The page names no key that neither charon nor minivpn has (a typo, a key of another section).
TEST(DocKeys, ThePageNamesOnlyKnownKeys) {
  for (const auto& [part, keys] : ThePage()) {
    std::set<std::string> known;
    for (const auto* keys_of : {&kCharonKeys, &kMinivpnKeys}) {
      if (keys_of->contains(part)) known.insert(keys_of->at(part).begin(), keys_of->at(part).end());
    }
    if (part == Part::kIpsec) {
      for (const auto& side : kCharonSideKeys) known.insert({"left" + side, "right" + side});
    }
    const auto table = part == Part::kConnection ? SwanctlConnectionKeys()
                       : part == Part::kAuth     ? SwanctlAuthKeys()
                       : part == Part::kChild    ? SwanctlChildKeys()
                                                 : IpsecConnKeys();
    for (const auto& entry : table) known.insert(std::string(entry.key));
    for (const auto& [key, doc] : keys) {
      EXPECT_TRUE(known.contains(key)) << Name(part) << ": the page documents unknown '" << key
                                       << "'";
    }
  }
}

TEST(DocKeys, EveryDocumentedKeyLoadsWithItsStatus) {
  for (const auto& [part, keys] : ThePage()) {
    for (const auto& [key, doc] : keys) {
      const Sample* sample = SampleOf(part, key);
      if (sample == nullptr) {
        ADD_FAILURE() << Name(part) << ": no sample value for '" << key << "' in this test";
        continue;
      }
      ASSERT_FALSE(doc.silent.contains(sample->value)) << key;
      TempDir dir;
      const Loaded loaded = Load(dir, part, key, sample->value);
      ASSERT_GT(loaded.line, 0) << key;
      const auto status = StatusOf(loaded, key);
      EXPECT_TRUE(status && *status == doc.status)
          << Name(part) << ": " << key << " = " << sample->value << ": the page says "
          << Name(doc.status) << ", the loader: "
          << (status ? Name(*status) : "something else") << "\n"
          << Dump(loaded.result.diagnostics);
      for (const auto& silent : doc.silent) {
        TempDir quiet_dir;
        const Loaded quiet = Load(quiet_dir, part, key, silent);
        EXPECT_EQ(StatusOf(quiet, key), Status::kAccepted)
            << Name(part) << ": " << key << " = " << silent << " is silent on the page\n"
            << Dump(quiet.result.diagnostics);
      }
    }
  }
}

// The page's "Accepted and ignored" / "Not supported" lists are charon_keys.cc's tables.
TEST(DocKeys, TheListsAreTheLoadersTables) {
  const Page& page = ThePage();
  const auto expect = [&](Part part, const CharonKey& entry, const std::string& key) {
    ASSERT_TRUE(page.at(part).contains(key)) << Name(part) << ": '" << key << "' is not listed";
    const Documented& doc = page.at(part).at(key);
    EXPECT_EQ(doc.status,
              entry.status == KeyStatus::kIgnored ? Status::kWarning : Status::kError)
        << Name(part) << ": " << key;
    std::set<std::string> silent;
    for (auto v : SplitList(entry.silent, '|')) {
      if (!v.empty()) silent.insert(std::string(v));
    }
    EXPECT_EQ(doc.silent, silent) << Name(part) << ": the silent values of " << key;
  };
  for (const auto& e : SwanctlConnectionKeys()) expect(Part::kConnection, e, std::string(e.key));
  for (const auto& e : SwanctlAuthKeys()) expect(Part::kAuth, e, std::string(e.key));
  for (const auto& e : SwanctlChildKeys()) expect(Part::kChild, e, std::string(e.key));
  for (const auto& e : IpsecConnKeys()) expect(Part::kIpsec, e, std::string(e.key));
  for (const auto& e : IpsecSideKeys()) {
    expect(Part::kIpsec, e, "left" + std::string(e.key));
    expect(Part::kIpsec, e, "right" + std::string(e.key));
  }
  // ... and the page lists nothing else: a listed key the tables lack is in a loader's code.
  std::size_t listed = 0;
  for (const auto& [part, keys] : page) {
    for (const auto& [key, doc] : keys) listed += doc.status != Status::kAccepted ? 1 : 0;
  }
  EXPECT_EQ(listed, SwanctlConnectionKeys().size() + SwanctlAuthKeys().size() +
                        SwanctlChildKeys().size() + IpsecConnKeys().size() +
                        2 * IpsecSideKeys().size());
}

// docs/charon-keys.md: one table per section, | key | charon 5.9.8 | minivpn |, under the
// headings of kCharonTables. A row's first cell names its keys (`leftid` / `rightid`: both); its
// last cell starts with a status word: "honoured" (optionally "honoured (differs: ...)"),
// "ignored (warning)", "ignored (silent)" or "error", then ": ..." or "; ...".
enum class Table {
  kNone, kConnection, kAuth, kChild, kSecrets, kIpsecConn, kIpsecSide, kSetup, kStrongswan
};

const std::map<std::string, Table> kCharonTables = {
    {"## swanctl.conf connections.\\<conn\\>", Table::kConnection},
    {"## swanctl.conf connections.\\<conn\\>.local / remote", Table::kAuth},
    {"## swanctl.conf connections.\\<conn\\>.children.\\<child\\>", Table::kChild},
    {"## swanctl.conf secrets (ike)", Table::kSecrets},
    {"## ipsec.conf conn", Table::kIpsecConn},
    {"## ipsec.conf conn: left/right keys", Table::kIpsecSide},
    {"## ipsec.conf config setup", Table::kSetup},
    {"## strongswan.conf charon.\\*", Table::kStrongswan},
};

std::string Name(Table table) {
  for (const auto& [heading, t] : kCharonTables) {
    if (t == table) return heading.substr(3);
  }
  return "-";
}

struct Row {
  std::vector<std::string> keys;
  std::string status;
  int line = 0;
};
using CharonPage = std::map<Table, std::vector<Row>>;

// Table cells, split at '|' but not at "\|".
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (line[i] == '|') {
      cells.push_back(std::string(Trim(cell)));
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return cells;
}

CharonPage ReadCharonPage(const std::string& text) {
  CharonPage page;
  Table table = Table::kNone;
  std::istringstream in(text);
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.starts_with("#")) {
      auto it = kCharonTables.find(line);
      table = it == kCharonTables.end() ? Table::kNone : it->second;
      continue;
    }
    if (!line.starts_with("| `") || table == Table::kNone) continue;  // header, separator, text
    const auto cells = Cells(line);
    if (cells.size() != 3) {
      ADD_FAILURE() << "docs/charon-keys.md:" << line_no << ": expected 3 cells";
      continue;
    }
    Row row{{}, cells[2], line_no};
    static const std::regex key("`([^`]+)`");
    for (auto it = std::sregex_iterator(cells[0].begin(), cells[0].end(), key);
         it != std::sregex_iterator(); ++it) {
      row.keys.push_back((*it)[1]);
    }
    page[table].push_back(row);
  }
  return page;
}

// What a status says the loader does with a value that is not charon's default: honoured and
// ignored (silent) load without a word, ignored (warning) with a warning, error with an error.
std::optional<Status> StatusWord(const std::string& status) {
  static const std::regex word(
      "(honoured( \\(differs: .+\\))?|ignored \\((warning|silent)\\)|error)([:;] .+)?");
  std::smatch m;
  if (!std::regex_match(status, m, word)) return std::nullopt;
  const std::string first = m[1];
  if (first == "error") return Status::kError;
  if (first == "ignored (warning)") return Status::kWarning;
  return Status::kAccepted;
}

// The worst diagnostic of a load (the files around the key load without a word).
Status Worst(const LoadResult& result) {
  Status status = Status::kAccepted;
  for (const auto& d : result.diagnostics) {
    if (d.severity == Severity::kError) return Status::kError;
    if (d.severity == Severity::kWarning) status = Status::kWarning;
  }
  return status;
}

Part PartOf(Table table) {
  switch (table) {
    case Table::kConnection: return Part::kConnection;
    case Table::kAuth: return Part::kAuth;
    case Table::kChild: return Part::kChild;
    case Table::kIpsecConn:
    case Table::kIpsecSide: return Part::kIpsec;
    default: break;
  }
  return Part::kNone;
}

// The table of docs/charon-keys.md that must list a key of docs/config.md.
Table TableOf(Part part, const std::string& key) {
  switch (part) {
    case Part::kConnection: return Table::kConnection;
    case Part::kAuth: return Table::kAuth;
    case Part::kChild: return Table::kChild;
    case Part::kIpsec:
      return key.starts_with("left") || key.starts_with("right") ? Table::kIpsecSide
                                                                 : Table::kIpsecConn;
    case Part::kNone: break;
  }
  return Table::kNone;
}

// Rows of charon-keys.md that config.md does not name: swanctl's cacert<suffix> subsections.
const std::set<std::pair<Table, std::string>> kCharonPageOnly = {{Table::kAuth, "cacert"}};
// The value tried where kSamples' would not show the status: a key whose non-default value
// matters (encap = yes), and keys kSamples lacks.
const std::map<std::pair<Table, std::string>, std::string> kProbes = {
    {{Table::kConnection, "encap"}, "yes"},
    {{Table::kIpsecConn, "forceencaps"}, "yes"},
    {{Table::kChild, "hw_offload"}, "auto"},
    {{Table::kAuth, "cacert"}, "ca.pem"},
};

Status LoadSetup(TempDir& dir, const std::string& key, const std::string& value) {
  ConfigPaths paths;
  paths.ipsec_conf = dir.Write("ipsec.conf", "config setup\n  " + key + "=" + value +
                                                 "\nconn t\n  left=192.0.2.1\n"
                                                 "  right=198.51.100.1\n  leftid=routerA\n"
                                                 "  rightid=routerB\n  auto=add\n");
  paths.ipsec_secrets = dir.Write("ipsec.secrets", "routerA routerB : PSK \"s3cret\"\n");
  return Worst(LoadConfig(paths, LoadOptions{ThisHost}));
}

// A swanctl.conf whose secrets section has `extra` beside its ike section.
Status LoadSecrets(TempDir& dir, const std::string& extra) {
  const std::string text =
      "connections { gw {\n  local_addrs = 192.0.2.1\n  remote_addrs = 198.51.100.1\n"
      "  local {\n    auth = psk\n    id = routerA\n  }\n"
      "  remote {\n    auth = psk\n    id = routerB\n  }\n"
      "  children { net {\n    local_ts = 0.0.0.0/0\n    remote_ts = 0.0.0.0/0\n  } }\n} }\n"
      "secrets {\n  ike-1 {\n    id-a = routerA\n    id-b = routerB\n    secret = \"s3cret\"\n"
      "  }\n" +
      extra + "}\n";
  return Worst(LoadConfig(ConfigPaths{.swanctl_conf = dir.Write("swanctl.conf", text)}));
}

TEST(DocKeys, CharonKeysPageMatchesConfigPageAndLoaders) {
  const CharonPage page = ReadCharonPage(ReadDoc("charon-keys.md"));
  std::map<Table, std::set<std::string>> listed;
  for (const auto& [heading, table] : kCharonTables) {
    EXPECT_TRUE(page.contains(table)) << "docs/charon-keys.md has no table under '" << heading
                                      << "'";
  }
  // Every row names keys, each once per table, and starts its status with an allowed word.
  for (const auto& [table, rows] : page) {
    for (const auto& row : rows) {
      EXPECT_FALSE(row.keys.empty()) << "docs/charon-keys.md:" << row.line << ": no key";
      for (const auto& key : row.keys) {
        EXPECT_TRUE(listed[table].insert(key).second)
            << "docs/charon-keys.md:" << row.line << ": '" << key << "' is listed twice in "
            << Name(table);
      }
      EXPECT_TRUE(StatusWord(row.status))
          << "docs/charon-keys.md:" << row.line << ": status '" << row.status
          << "' does not start with honoured, honoured (differs: ...), ignored (warning), "
             "ignored (silent) or error";
    }
  }
  // Every key docs/config.md documents is in the matching table ...
  for (const auto& [part, keys] : ThePage()) {
    for (const auto& [key, doc] : keys) {
      const Table table = TableOf(part, key);
      EXPECT_TRUE(listed[table].contains(key))
          << Name(part) << ": '" << key << "' (docs/config.md) is not in docs/charon-keys.md's "
          << Name(table);
    }
  }
  // ... and the tables of the sections it documents name no other key (a typo).
  for (Table table : {Table::kConnection, Table::kAuth, Table::kChild, Table::kIpsecConn,
                      Table::kIpsecSide}) {
    const auto& documented = ThePage().at(PartOf(table));
    for (const auto& key : listed[table]) {
      EXPECT_TRUE((documented.contains(key) && TableOf(PartOf(table), key) == table) ||
                  kCharonPageOnly.contains({table, key}))
          << Name(table) << ": '" << key << "' is not a key docs/config.md documents there";
    }
  }
  // Each status agrees with the loader for a value that is not charon's default (kSamples', as
  // for docs/config.md, or kProbes').
  for (const auto& [table, rows] : page) {
    for (const auto& row : rows) {
      const auto expected = StatusWord(row.status);
      if (!expected) continue;  // reported above
      for (const auto& key : row.keys) {
        std::optional<Status> got;
        std::string value;
        TempDir dir;
        if (const Part part = PartOf(table); part != Part::kNone) {
          if (auto probe = kProbes.find({table, key}); probe != kProbes.end()) {
            value = probe->second;
          } else if (const Sample* sample = SampleOf(part, key)) {
            value = sample->value;
          } else {
            ADD_FAILURE() << Name(table) << ": no value to try for '" << key << "' in this test";
            continue;
          }
          got = Worst(Load(dir, part, key, value).result);
        } else if (table == Table::kSetup) {
          value = key == "uniqueids" ? "keep" : "yes";
          got = LoadSetup(dir, key, value);
        } else if (table == Table::kSecrets) {
          // ike<suffix>'s keys are in every file LoadSecrets writes; other types are sections.
          const std::string type = key.substr(0, key.find('<'));
          value = type == "secret" || type == "id" ? "" : type + "-1 { secret = x }";
          got = LoadSecrets(dir, value.empty() ? "" : "  " + value + "\n");
        } else {
          continue;  // strongswan.conf: below
        }
        EXPECT_EQ(Name(*got), Name(*expected))
            << "docs/charon-keys.md:" << row.line << ": " << Name(table) << ": " << key << " "
            << value << ": the page says '" << row.status << "'";
      }
    }
  }
  // strongswan.conf: only keys docs/config.md's strongswan.conf section names.
  const std::string config = ReadPage();
  const auto from = config.find("\n## strongswan.conf");
  ASSERT_NE(from, std::string::npos);
  const std::string section = config.substr(from, config.find("\n## ", from + 1) - from);
  for (const auto& key : listed[Table::kStrongswan]) {
    EXPECT_TRUE(section.find("`" + key + "`") != std::string::npos ||
                section.find("`" + key + " ") != std::string::npos)
        << "strongswan.conf: '" << key << "' is not named in docs/config.md";
  }
}

}  // namespace
}  // namespace minivpn::config

// Observability hooks of the engine (issue 9): the trace sink (every IKE message with its
// decrypted inner payloads), the key sink (Wireshark decryption tables, strongSwan's save-keys)
// and the inputs of the key-derivation walk-through (`minivpnctl explain`). All of it is off
// unless a sink is set, a peer exports keys or EngineConfig::retain_keymat is on.
#include <utility>

#include "crypto/keymat.h"
#include "ike/wire/codec.h"
#include "ike/engine/engine.h"
#include "ike/observe/wireshark_keys.h"

namespace minivpn::ike {

namespace {

// Octets of the D-H shared secret of a group: the x coordinate for ECP (RFC 5903 7), the
// public value's size for MODP and the Montgomery curves.
std::size_t SharedSecretSize(crypto::DhGroup group) {
  const std::size_t public_size = crypto::KePublicSize(group);
  switch (group) {
    case crypto::DhGroup::kEcp256:
    case crypto::DhGroup::kEcp384:
    case crypto::DhGroup::kEcp521:
      return public_size / 2;
    default:
      return public_size;
  }
}

// Lengths of SK_* for an IKE suite (2.14), as SetIkeKeys derives them.
crypto::IkeKeySizes IkeSizes(const IkeSuite& s) {
  return {.encr = crypto::EncrKeyMaterialSize(s.encr.id, s.encr.key_bits),
          .integ = crypto::IsAead(s.encr.id) ? 0 : crypto::IntegKeySize(s.integ)};
}

crypto::ChildKeySizes ChildSizes(const EspSuite& s) {
  return {.encr = crypto::EspKeyMaterialSize(s.encr.id, s.encr.key_bits),
          .integ = crypto::IsAead(s.encr.id) ? 0 : crypto::IntegKeySize(s.integ)};
}

crypto::IkeKeys CloneKeys(const crypto::IkeKeys& k) {
  return {k.sk_d.Clone(),  k.sk_ai.Clone(), k.sk_ar.Clone(), k.sk_ei.Clone(),
          k.sk_er.Clone(), k.sk_pi.Clone(), k.sk_pr.Clone()};
}

crypto::ChildKeys CloneKeys(const crypto::ChildKeys& k) {
  return {k.encr_i.Clone(), k.integ_i.Clone(), k.encr_r.Clone(), k.integ_r.Clone()};
}

// The placeholders of ExplainInput without secrets: zeros of the right length.
crypto::IkeKeys PlaceholderKeys(const IkeSuite& s) {
  const auto sizes = IkeSizes(s);
  const std::size_t prf = crypto::PrfOutputSize(s.prf);
  return {SecretBytes(prf),         SecretBytes(sizes.integ), SecretBytes(sizes.integ),
          SecretBytes(sizes.encr),  SecretBytes(sizes.encr),  SecretBytes(prf),
          SecretBytes(prf)};
}

crypto::ChildKeys PlaceholderKeys(const EspSuite& s) {
  const auto sizes = ChildSizes(s);
  return {SecretBytes(sizes.encr), SecretBytes(sizes.integ), SecretBytes(sizes.encr),
          SecretBytes(sizes.integ)};
}

}  // namespace

void Engine::TraceMessage(Direction direction, const IkeSa* sa, const Endpoint& local,
                          const Endpoint& remote, const Message& message,
                          const std::vector<Payload>* inner, std::size_t fragments,
                          TimePoint now) {
  if (!trace_sink_) return;
  TraceRecord r;
  r.direction = direction;
  r.time = now;
  r.local = local;
  r.remote = remote;
  r.message = &message;
  r.inner = inner;
  r.fragments = fragments;
  if (sa != nullptr) {
    r.peer = sa->peer;
    r.ike_serial = sa->serial;
    // The sender's direction: what we send is sealed with cipher_out, what we receive with the
    // peer's (cipher_in); both have the same layout.
    const auto& cipher = direction == Direction::kSent ? sa->cipher_out : sa->cipher_in;
    if (inner != nullptr && cipher) {
      r.sk_iv_size = cipher->iv_size();
      r.sk_icv_size = cipher->icv_size();
    }
  }
  trace_sink_(r);
}

void Engine::TraceSealed(const IkeSa& sa, const std::vector<Bytes>& datagrams,
                         const std::vector<Payload>& inner, TimePoint now) {
  if (!trace_sink_ || datagrams.empty()) return;
  auto outer = Decode(datagrams.front());
  if (!outer) return;  // cannot happen for what Protect() built; nothing to show if it did
  TraceMessage(Direction::kSent, &sa, sa.local, sa.remote, *outer, &inner, datagrams.size(), now);
}

bool Engine::WantsIkeKeys(const IkeSa& sa) const {
  if (config_.retain_keymat) return true;
  if (!key_sink_) return false;
  const PeerConfig* peer = FindPeer(sa.peer);
  return peer != nullptr && peer->export_ike_keys;
}

void Engine::OnIkeKeys(IkeSa& sa, const SecretBytes& g_ir, const SecretBytes& skeyseed,
                       crypto::IkeKeys keys) {
  const PeerConfig* peer = FindPeer(sa.peer);
  if (key_sink_ && peer != nullptr && peer->export_ike_keys) {
    const crypto::SkSuite suite{
        .encr = sa.suite.encr.id, .key_bits = sa.suite.encr.key_bits, .integ = sa.suite.integ};
    auto line = IkeDecryptionTableLine(sa.spi_i, sa.spi_r, suite, keys);
    if (line) {
      key_sink_(KeyRecord{.peer = sa.peer,
                          .ike_serial = sa.serial,
                          .table = kIkeDecryptionTableFile,
                          .lines = &*line});
    } else {
      Emit(EventKind::kFailure, &sa, sa.created, "Wireshark export of IKE keys: " + line.error());
    }
  }
  if (config_.retain_keymat) {
    sa.retained = std::make_unique<RetainedIkeKeymat>(RetainedIkeKeymat{
        .g_ir = g_ir.Clone(), .skeyseed = skeyseed.Clone(), .keys = std::move(keys)});
  }
}

void Engine::OnChildKeys(IkeSa& sa, ChildSa& child, ByteView nonce_i, ByteView nonce_r,
                         const SecretBytes* g_ir, bool we_initiated) {
  child.keymat_nonce_i.assign(nonce_i.begin(), nonce_i.end());
  child.keymat_nonce_r.assign(nonce_r.begin(), nonce_r.end());
  child.keymat_we_initiated = we_initiated;
  const PeerConfig* peer = FindPeer(sa.peer);
  const bool export_esp = key_sink_ && peer != nullptr && peer->export_esp_keys;
  if (!export_esp && !config_.retain_keymat) return;
  if (!sa.prf) return;
  // 2.17, the same derivation as InstallChild (whose copy went to the kernel and was wiped).
  crypto::ChildKeys keys =
      crypto::DeriveChildKeys(*sa.prf, sa.sk_d, g_ir, nonce_i, nonce_r, ChildSizes(child.suite));
  if (export_esp) {
    const bool v6 = !sa.local.address.is_v4();
    const std::string local = sa.local.address.ToString();
    const std::string remote = sa.remote.address.ToString();
    EspSaEndpoints endpoints{
        .initiator = we_initiated ? local : remote,
        .responder = we_initiated ? remote : local,
        .ipv6 = v6,
        .spi_i = we_initiated ? child.params.spi_in : child.params.spi_out,
        .spi_r = we_initiated ? child.params.spi_out : child.params.spi_in};
    const WiresharkEspSuite suite{.encr = child.suite.encr.id,
                                  .key_bits = child.suite.encr.key_bits,
                                  .integ = child.suite.integ};
    auto lines = EspSaLines(endpoints, suite, keys);
    if (lines) {
      key_sink_(KeyRecord{
          .peer = sa.peer, .ike_serial = sa.serial, .table = kEspSaTableFile, .lines = &*lines});
    } else {
      Emit(EventKind::kFailure, &sa, child.installed_at, "Wireshark export of ESP keys: " +
           lines.error(), std::nullopt, child.name);
    }
  }
  if (config_.retain_keymat) {
    child.retained = std::make_unique<RetainedChildKeymat>();
    if (g_ir != nullptr) child.retained->g_ir = g_ir->Clone();
    child.retained->keys = std::move(keys);
  }
}

std::expected<KeymatExplainInput, std::string> Engine::ExplainInput(std::uint64_t serial,
                                                                    bool with_secrets) const {
  auto it = sas_.find(serial);
  if (it == sas_.end() || it->second->destroyed) {
    return std::unexpected("no IKE SA #" + std::to_string(serial));
  }
  const IkeSa& sa = *it->second;
  if (!sa.prf) {
    return std::unexpected("IKE SA #" + std::to_string(serial) +
                           " has no keys yet (IKE_SA_INIT not completed)");
  }
  if (with_secrets && (!config_.retain_keymat || !sa.retained || sa.retained->skeyseed.empty())) {
    return std::unexpected(
        "key values of IKE SA #" + std::to_string(serial) +
        " were not kept: start minivpnd with --retain-keys to explain with secrets");
  }
  KeymatExplainInput in;
  in.suite = KeymatIkeSuite{.encr = sa.suite.encr.id,
                            .encr_key_bits = sa.suite.encr.key_bits,
                            .prf = sa.suite.prf,
                            .integ = sa.suite.integ,
                            .dh = sa.suite.dh};
  in.spi_i = sa.spi_i;
  in.spi_r = sa.spi_r;
  in.nonce_i = sa.nonce_i;
  in.nonce_r = sa.nonce_r;
  in.rekeyed = sa.rekey_skeyseed;
  if (with_secrets) {
    in.g_ir = sa.retained->g_ir.Clone();
    in.skeyseed = sa.retained->skeyseed.Clone();
    in.keys = CloneKeys(sa.retained->keys);
  } else {
    in.g_ir = SecretBytes(SharedSecretSize(sa.suite.dh));
    in.skeyseed = SecretBytes(crypto::PrfOutputSize(sa.suite.prf));
    in.keys = PlaceholderKeys(sa.suite);
  }
  for (const ChildSa& c : sa.children) {
    ChildKeymat k;
    k.suite = KeymatChildSuite{
        .encr = c.suite.encr.id, .encr_key_bits = c.suite.encr.key_bits, .integ = c.suite.integ};
    k.spi_i = c.keymat_we_initiated ? c.params.spi_in : c.params.spi_out;
    k.spi_r = c.keymat_we_initiated ? c.params.spi_out : c.params.spi_in;
    k.nonce_i = c.keymat_nonce_i;
    k.nonce_r = c.keymat_nonce_r;
    if (with_secrets) {
      if (!c.retained || c.retained->keys.encr_i.empty()) {
        return std::unexpected("KEYMAT of CHILD_SA " + c.name + " {" + std::to_string(c.id) +
                               "} was not kept");
      }
      k.g_ir = c.retained->g_ir.Clone();
      k.keys = CloneKeys(c.retained->keys);
    } else {
      if (c.suite.dh != crypto::DhGroup::kNone) k.g_ir = SecretBytes(SharedSecretSize(c.suite.dh));
      k.keys = PlaceholderKeys(c.suite);
    }
    in.children.push_back(std::move(k));
  }
  return in;
}

}  // namespace minivpn::ike

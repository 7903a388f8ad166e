// Which connections export Wireshark keys, and where (cli/daemon/peer_mapping.h, issue 9).
#include "cli/daemon/peer_mapping.h"

#include <gtest/gtest.h>

namespace minivpn::daemon {
namespace {

TEST(WiresharkExport, ConnectionKeyThenSaveKeysPlugin) {
  config::ConnectionConfig conn;
  config::GlobalSettings global;
  EXPECT_EQ(ToWiresharkExport(conn, global), WiresharkExport{});  // off by default

  // save-keys needs load = yes, a directory and ike or esp (as charon's plugin).
  global.save_keys_dir = "/tmp/ws";
  global.save_keys_esp = true;
  EXPECT_EQ(ToWiresharkExport(conn, global), WiresharkExport{});
  global.save_keys_load = true;
  EXPECT_EQ(ToWiresharkExport(conn, global), (WiresharkExport{"/tmp/ws", false, true}));

  // The connection's own key wins and exports both tables.
  conn.wireshark_keys = "/var/lib/minivpn/ws";
  EXPECT_EQ(ToWiresharkExport(conn, global), (WiresharkExport{"/var/lib/minivpn/ws", true, true}));
}

}  // namespace
}  // namespace minivpn::daemon

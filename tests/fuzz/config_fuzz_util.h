// Shared by the configuration fuzzers (swanctl_fuzzer, ipsec_conf_fuzzer, ipsec_secrets_fuzzer).
//
// Files. One fuzzer input is a small file set: the text up to the first line "#@@ <name>" is the
// main file, each such line starts another file called <name> (letters, digits, '.', '_', '-';
// other characters become '_'). '#' starts a comment in all three formats, so a seed reads like
// the files it holds. The files are written to a private directory (/dev/shm, else /tmp) that
// is emptied before every run, and the loaders get real paths into it, as minivpnd does.
//
// Includes. config_fuzz_util.cc defines glob(3) (taking precedence over libc's and ASan's): the
// loaders expand every `include` through it, and only patterns inside the private directory
// without ".." are expanded; anything else matches nothing, so an include can never reach the
// real filesystem. It also defines open(2) to count the files of the set one load reads; more
// than kIncludeBudget is a finding ("include-blowup": issue 18, a file that includes itself k
// times at each of 10 levels is read k^10 times). The budget allows the loaders' own limit (1000
// files per top-level file) for each of the up to three top-level files of a load, plus slack.
//
// Checks. Fail() aborts (libFuzzer records the input). MINIVPN_FUZZ_IGNORE (fuzz_util.h) names
// findings to step around when fuzzing older code (all of them are fixed, each with a regression
// test, see tests/cli/config_secret_leak_test.cc FuzzFindings): "secret-leak" and "include-blowup" turn those
// checks off (past the include budget files still fail to open, so runs stay fast); "nul-hang"
// replaces NUL bytes by spaces (settings.cc ReadValue and ipsec_secrets.cc Tokenize loop
// forever on a NUL); "diag-position" skips the line:column check (ipsec_secrets.cc counts lines
// wrongly after a blank or comment line inside an entry); "hide-loop" breaks up pieces of
// "<hidden>" in the input (diagnostic.cc Hide loops forever on a secret that is one);
// "text-vs-file" skips the ParseSettingsText/ParseSettingsFile comparison (the text version
// does not count its own name as an include, so `include swanctl.conf` reads it once more).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "cli/config/config.h"
#include "cli/config/diagnostic.h"
#include "cli/config/model.h"
#include "tests/fuzz/fuzz_util.h"

namespace minivpn::fuzz {

struct FuzzFile {
  std::string name;
  std::string text;
};

inline constexpr std::string_view kFileMarker = "#@@ ";
inline constexpr std::size_t kMaxFiles = 8;
inline constexpr std::size_t kIncludeBudget = 4000;

// The secret marker: a PSK whose text contains it must never show up in a diagnostic.
inline constexpr std::string_view kSecretMarker = "s3cr3t";

// Splits the input into files; the first is `main_name` (later files with that name are dropped).
std::vector<FuzzFile> SplitFiles(std::string_view input, std::string_view main_name);

// The private directory (created on first use, removed at exit).
const std::string& FuzzDir();
// Empties the directory and writes `files` (mode 0600).
void WriteFiles(const std::vector<FuzzFile>& files);
std::string PathOf(std::string_view name);
const FuzzFile* FindFile(const std::vector<FuzzFile>& files, std::string_view name);

// Include accounting, per load: Reset before it, Check after it.
void ResetIncludeBudget();
// Whether an include of the last load matched the file `name` of the set.
bool WasIncluded(std::string_view name);
void CheckIncludeBudget(const char* fuzzer);

[[noreturn]] void Fail(const char* fuzzer, const std::string& what);

// LoadConfig twice gives the same configuration and diagnostics.
void CheckSameResult(const char* fuzzer, const config::LoadResult& a, const config::LoadResult& b);
// Every diagnostic formats, names a file of the set (or none) and a line inside it.
void CheckDiagnostics(const char* fuzzer, const std::vector<config::Diagnostic>& diagnostics,
                      const std::vector<FuzzFile>& files);

// Offsets of the file's text that hold a secret, for the leak check. Marker occurrences must all
// lie in such ranges (and in no other file, nor in a file name) for the check to apply.
struct Range {
  std::size_t begin;
  std::size_t end;
};
// ipsec.secrets: the tokens after an entry's ':' separator, except an unquoted type word (which
// may be printed: "unknown secret type 'RSAX'"). Mirrors ipsec_secrets.cc's entry splitting.
std::vector<Range> IpsecSecretsRanges(std::string_view text);
// swanctl.conf: the raw text of every `secret = ...` value of a section in `secrets { }`
// (positions from the parsed document: file, line and column of each value).
Range SettingsValueRange(std::string_view text, int line, int column);

// Fails if a diagnostic message contains kSecretMarker while every occurrence of the marker in
// the input is inside a secret range (`secret_ranges` by file name).
void CheckNoSecretLeak(const char* fuzzer, const std::vector<config::Diagnostic>& diagnostics,
                       const std::vector<FuzzFile>& files,
                       const std::vector<std::pair<std::string, std::vector<Range>>>& secret_ranges);

// A deterministic stand-in for IsLocalAddress (the host's interfaces must not matter).
bool FakeIsLocal(const config::IpAddress& address);

// Loads `paths` twice (FakeIsLocal decides the local addresses), each within the include budget,
// checks that both loads agree and that every diagnostic points into its file; returns the first.
config::LoadResult LoadTwiceAndCheck(const char* fuzzer, const config::ConfigPaths& paths,
                                     const std::vector<FuzzFile>& files);

}  // namespace minivpn::fuzz

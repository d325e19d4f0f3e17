//! Masking, kind by kind: what a line looks like after the single-pass
//! scanner, before mining. Tokens are joined by one space.

use sluice_plugin_fingerprint::tokenize::{MAX_TOKEN_BYTES, Tokens, tokenize};

fn masked(line: &str) -> String {
    masked_with(line, 128)
}

fn masked_with(line: &str, max_tokens: usize) -> String {
    let mut tokens = Tokens::default();
    tokenize(line, max_tokens, &mut tokens);
    tokens.iter().collect::<Vec<_>>().join(" ")
}

#[test]
fn numbers_signs_decimals_and_units() {
    assert_eq!(masked("Got assigned task 305"), "Got assigned task <*>");
    assert_eq!(masked("keyId: -127633188)"), "keyId: <*>)");
    assert_eq!(masked("Progress is : 0.023958297"), "Progress is : <*>");
    assert_eq!(masked("vCores:-17>"), "vCores:<*>>");
    assert_eq!(masked("size 1.5e10 bytes"), "size <*> bytes");
}

#[test]
fn durations_and_sizes() {
    assert_eq!(masked("took 12ms"), "took <*>");
    assert_eq!(masked("finished in 3.25s"), "finished in <*>");
    assert_eq!(masked("(threshold=30000ms);"), "(threshold=<*>);");
    assert_eq!(masked("126MB LOWMEM available."), "<*> LOWMEM available.");
    // A size unit chosen by magnitude belongs to its number; a fixed one stays.
    assert_eq!(
        masked("(estimated size 384.0 B, free 317.5 KB)"),
        "(estimated size <*>, free <*>)"
    );
    assert_eq!(masked("capacity 17.7 GiB"), "capacity <*>");
    assert_eq!(
        masked("took 160 ms, 2703 bytes sent"),
        "took <*> ms, <*> bytes sent"
    );
    assert_eq!(masked("Plan B, then"), "Plan B, then");
}

#[test]
fn hex_numbers_and_hashes() {
    assert_eq!(masked("flags=0x1 at 0x7fed806eb5d"), "flags=<*> at <*>");
    assert_eq!(masked("iar 003a90fc dear 00b360e8"), "iar <*> dear <*>");
    assert_eq!(masked("token de9231d done"), "token <*> done");
    // Hex letters without digits are words.
    assert_eq!(masked("deadbeef cafe added"), "deadbeef cafe added");
}

#[test]
fn uuids() {
    assert_eq!(
        masked("request 123e4567-e89b-12d3-a456-426614174000 done"),
        "request <*> done"
    );
    assert_eq!(
        masked("key {bf1a281b-ad7b-4476-ac95-f47682990ce7}"),
        "key {<*>}"
    );
}

#[test]
fn ipv4_with_and_without_port() {
    assert_eq!(
        masked("from 173.234.31.186 port 38926"),
        "from <*> port <*>"
    );
    assert_eq!(
        masked("updated: 10.251.73.220:50010 is added"),
        "updated: <*> is added"
    );
    assert_eq!(masked("[173.234.31.186] failed"), "[<*>] failed");
    assert_eq!(masked("msra-sa-41/10.190.173.170:9000"), "<*>");
}

#[test]
fn ipv6_and_mac_addresses() {
    assert_eq!(
        masked("from fe80::1ff:fe23:4567:890a via eth0"),
        "from <*> via eth0"
    );
    assert_eq!(masked("peer [2001:db8::1]:443"), "peer [<*>]:<*>");
    assert_eq!(masked("chip FF:F2:9F:16:E2:23:00:0D ok"), "chip <*> ok");
    // Clock times collapse into one variable; `Class::method` is a word.
    assert_eq!(
        masked("at 12:30:45 ICSITransaction::Commit"),
        "at <*> ICSITransaction::Commit"
    );
}

#[test]
fn paths_unix_windows_and_relative() {
    assert_eq!(
        masked("workerEnv.init() ok /etc/httpd/conf/workers2.properties"),
        "workerEnv.init() ok <*>"
    );
    assert_eq!(
        masked("Core: C:\\Windows\\winsxs\\cbscore.dll loaded"),
        "Core: <*> loaded"
    );
    assert_eq!(masked("run ./bin/start.sh now"), "run <*> now");
    assert_eq!(
        masked("LOGIN chdir(/p/gb2/glosli/t800) failed"),
        "LOGIN chdir(<*>) failed"
    );
    assert_eq!(masked("from /10.251.42.84 done."), "from <*> done.");
    // A lone slash, and words joined by one, stay.
    assert_eq!(
        masked("read / write power/control"),
        "read / write power/control"
    );
}

#[test]
fn urls_and_emails() {
    assert_eq!(masked("GET http://example.com/a?b=c&d=1 ok"), "GET <*> ok");
    assert_eq!(
        masked("split: hdfs://10.10.34.11:9000/pjhe/logs/2kSOSP.log:21876+7292"),
        "split: <*>"
    );
    assert_eq!(
        masked("mail to alice.1@example.com sent"),
        "mail to <*> sent"
    );
    assert_eq!(masked("by (bhcompile@bugs.build.redhat.com)"), "by (<*>)");
}

#[test]
fn quoted_strings() {
    // After `=`, a quotation is a value whatever it holds.
    assert_eq!(
        masked("acquire tag=\"View Lock\", name=x"),
        "acquire tag=\"<*>\", name=x"
    );
    // Elsewhere it is masked when it holds something variable.
    assert_eq!(
        masked("Saved output of task 'attempt_2017_0024_m_3' to"),
        "Saved output of task '<*>' to"
    );
    assert_eq!(
        masked("removing device node '/udev/vcsa2'"),
        "removing device node '<*>'"
    );
    assert_eq!(
        masked("blocker \"PowerManagerService.WakeLocks\"."),
        "blocker \"PowerManagerService.WakeLocks\"."
    );
    assert_eq!(
        masked("Checking 'hlt' instruction... OK."),
        "Checking 'hlt' instruction... OK."
    );
    // Apostrophes inside words are no quotes.
    assert_eq!(
        masked("can't get client address"),
        "can't get client address"
    );
}

#[test]
fn key_value_values() {
    assert_eq!(
        masked("uid=0 euid=1000 flags=0x1 name=com.android.systemui ws=null"),
        "uid=<*> euid=<*> flags=<*> name=<*> ws=<*>"
    );
    // A plain word is left to the miner: enums stay until they vary.
    assert_eq!(masked("tty=ssh state=RUNNING"), "tty=ssh state=RUNNING");
    assert_eq!(masked("bnds=[264,444][920,908] }"), "bnds=<*> }");
    assert_eq!(
        masked("bounds=Rect(0, 0 - 720, 1280)"),
        "bounds=Rect(<*>, <*> - <*>, <*>)"
    );
    assert_eq!(masked("ruser= rhost=5.1.2.3"), "ruser= rhost=<*>");
    assert_eq!(masked("a == b"), "a == b");
}

#[test]
fn block_and_task_ids() {
    assert_eq!(
        masked("block blk_-1608999687919862906 terminating"),
        "block <*> terminating"
    );
    assert_eq!(masked("block blk_38865049064139660"), "block <*>");
    assert_eq!(
        masked("Found block rdd_2_0 locally"),
        "Found block <*> locally"
    );
    assert_eq!(
        masked("Launching attempt_1445144423722_0020_m_000000_0"),
        "Launching <*>"
    );
    assert_eq!(
        masked("ServerFileSystem domain storage234"),
        "ServerFileSystem domain <*>"
    );
}

#[test]
fn words_with_a_few_digits_stay_and_numbered_names_keep_their_word() {
    assert_eq!(
        masked("port 22 ssh2 on tty2 via eth0 Log4j"),
        "port <*> ssh2 on tty2 via eth0 Log4j"
    );
    assert_eq!(
        masked("node node-246 generating core.2275"),
        "node node-<*> generating core.<*>"
    );
    assert_eq!(masked("version v6.1.7601.23505"), "version <*>");
}

#[test]
fn host_names_but_not_java_names() {
    assert_eq!(
        masked("for ns.marryaldkfaczcz.com [1.2.3.4]"),
        "for <*> [<*>]"
    );
    assert_eq!(
        masked("org.apache.hadoop.mapreduce.v2.app.MRAppMaster"),
        "org.apache.hadoop.mapreduce.v2.app.MRAppMaster"
    );
    assert_eq!(
        masked("name com.android.systemui"),
        "name com.android.systemui"
    );
}

#[test]
fn booleans_and_null() {
    assert_eq!(
        masked("setLightsOn(true) overlap:false config null"),
        "setLightsOn(<*>) overlap:<*> config <*>"
    );
}

#[test]
fn written_out_dates_are_one_variable() {
    assert_eq!(
        masked("connection from 1.2.3.4 () at Fri Jun 17 07:07:00 2005"),
        "connection from <*> () at <*>"
    );
    assert_eq!(
        masked("status=M Fri Jul 01 08:16:53 PDT 2005"),
        "status=M <*>"
    );
    assert_eq!(masked("on 17 Jun 2005 10:00 done"), "on <*> done");
    assert_eq!(masked("Jun 14 15:16:01 combo"), "<*> combo");
    // A month name alone is a word.
    assert_eq!(masked("May be retried"), "May be retried");
}

#[test]
fn runs_of_variables_are_one() {
    assert_eq!(masked("delete blk_1 blk_2 blk_3 blk_4"), "delete <*>");
    assert_eq!(masked("ISO 2016-09-28 04:30:30 stamp"), "ISO <*> stamp");
    assert_eq!(
        masked("Fan speeds ( 3552 3534 3375 **** 3515 3479 )"),
        "Fan speeds ( <*> **** <*> )"
    );
}

#[test]
fn long_lines_and_long_tokens_are_bounded() {
    assert_eq!(masked_with("a b c d e f g", 4), "a b c <*>");
    assert_eq!(masked_with("a b c d", 4), "a b c d");
    let blob = "x".repeat(MAX_TOKEN_BYTES + 1);
    assert_eq!(masked(&format!("body {blob} end")), "body <*> end");
    let words = (0..1000).map(|_| "w").collect::<Vec<_>>().join(" ");
    let mut tokens = Tokens::default();
    tokenize(&words, 128, &mut tokens);
    assert_eq!(tokens.len(), 128);
}

#[test]
fn wildcards_in_the_input_and_text_outside_ascii() {
    assert_eq!(masked("already <*> masked"), "already <*> masked");
    assert_eq!(
        masked("Benutzer müller angemeldet 42 mal"),
        "Benutzer müller angemeldet <*> mal"
    );
    assert_eq!(masked("日志 ユーザー 3 件"), "日志 ユーザー <*> 件");
    assert_eq!(masked("   "), "");
}

/// A deterministic stream of pseudo-random numbers (xorshift64).
fn rng(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

/// Random text from the pieces the scanner branches on, and random
/// characters: no panic, no ASCII whitespace inside a token (only ASCII
/// whitespace separates tokens; a masked quotation is replaced whole), the
/// caps hold, and masking is a function of the line.
#[test]
fn random_text_tokenizes_within_bounds() {
    const PIECES: [&str; 30] = [
        "=", "\"", "'", "/", ":", "::", "<*>", "<", ">", "-", ".", "@", " ", "0x1f", "12", "Jun",
        "Fri", "ab", "blk_", "C:\\", "(", ")", "é", "\t", "10.0.0.1", "http://", "KB", "日志",
        "\u{a0}", "fe80",
    ];
    let mut next = rng(0x9e37_79b9_7f4a_7c15);
    let (mut a, mut b) = (Tokens::default(), Tokens::default());
    for _ in 0..20_000 {
        let mut line = String::new();
        for _ in 0..next() % 40 {
            let r = next();
            if r.is_multiple_of(5) {
                line.push(char::from_u32((r >> 8) as u32 % 0x3000).unwrap_or('?'));
            } else {
                line.push_str(PIECES[(r >> 8) as usize % PIECES.len()]);
            }
        }
        let max = 2 + (next() % 20) as usize;
        tokenize(&line, max, &mut a);
        assert!(a.len() <= max, "{line:?}");
        for t in a.iter() {
            assert!(!t.is_empty(), "{line:?}");
            assert!(
                !t.bytes().any(|c| c.is_ascii_whitespace()),
                "{line:?}: {t:?}"
            );
            assert!(t.len() <= MAX_TOKEN_BYTES + 3, "{line:?}");
        }
        tokenize(&line, max, &mut b);
        assert_eq!(a.hashes(), b.hashes(), "{line:?}");
    }
}

/// Hostile lines: a megabyte of patterns that make a careless scanner read
/// the rest of the line again at every step. They must finish (in linear
/// time; a quadratic scan would not finish in any reasonable test run) and
/// stay within the caps.
#[test]
fn hostile_megabyte_lines_finish() {
    let n = 1 << 20;
    let lines = [
        "a=[".repeat(n / 3),
        "a:b:".repeat(n / 4),
        format!("'{}", "'x".repeat(n / 2)),
        format!("\"{}", "x".repeat(n)),
        "\"a".repeat(n / 2),
        "/".repeat(n),
        "k=v=".repeat(n / 4),
        "Jun ".repeat(n / 4),
        "1.2.".repeat(n / 4),
        "<*>".repeat(n / 3),
        "x.".repeat(n / 2),
        "é=(".repeat(n / 4),
    ];
    let mut tokens = Tokens::default();
    for line in &lines {
        tokenize(line, 128, &mut tokens);
        assert!(tokens.len() <= 128);
        assert!(tokens.iter().all(|t| t.len() <= MAX_TOKEN_BYTES + 3));
    }
}

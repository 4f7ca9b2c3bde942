//! Chat exports (WhatsApp, Signal, Telegram; a folder or a ZIP): the log is an item, and each
//! file it names that arrives beside it carries the message that sent it (sender, time,
//! text) in its metadata, shown by `show` and `list --json`. Exports are built here.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::common::{output_text, triage};
use crate::families::init;

fn ingest(case: &Path, path: &Path) -> Value {
    let out = triage(
        case,
        &["ingest", "--source", "p", "--json", path.to_str().unwrap()],
    );
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("ingest: {}", output_text(&out)));
    assert_eq!(summary["problems"], serde_json::json!([]), "{summary:#}");
    summary
}

fn items(case: &Path) -> Vec<Value> {
    let out = triage(case, &["list", "--json"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

fn named<'a>(items: &'a [Value], name: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {items:#?}"))
}

fn photo(n: u8) -> Vec<u8> {
    let mut b = b"\xff\xd8\xff\xe0 a photo sent in a chat ".to_vec();
    b.push(n);
    b
}

#[test]
fn chat_exports_link_each_file_to_its_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = init(dir.path());
    let input = dir.path().join("in");
    // WhatsApp on Android, as a folder; the log sorts after its files by name.
    let wa = input.join("wa");
    std::fs::create_dir_all(&wa).unwrap();
    std::fs::write(
        wa.join("WhatsApp Chat with Field Team.txt"),
        "21/08/2013, 03:14 - Messages to this group are now secured with end-to-end encryption.\n\
         21/08/2013, 03:14 - Abu Omar: IMG-20130821-WA0003.jpg (file attached)\n\
         the hospital in Douma\n\
         21/08/2013, 03:20 - Rami: received\n",
    )
    .unwrap();
    std::fs::write(wa.join("IMG-20130821-WA0003.jpg"), photo(1)).unwrap();
    std::fs::write(wa.join("IMG-20130821-WA0004.jpg"), photo(2)).unwrap();
    // WhatsApp on iOS, as a ZIP whose log comes after the photo.
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("00000012-PHOTO-2013-08-21-03-14-07.jpg", opts)
        .unwrap();
    z.write_all(&photo(3)).unwrap();
    z.start_file("_chat.txt", opts).unwrap();
    z.write_all(
        "[21/08/2013, 03:14:07] Abu Omar: \u{200e}<attached: 00000012-PHOTO-2013-08-21-03-14-07.jpg>\n\
         [21/08/2013, 03:15:00] Abu Omar: from the roof\n"
            .as_bytes(),
    )
    .unwrap();
    std::fs::write(
        input.join("WhatsApp Chat - Abu Omar.zip"),
        z.finish().unwrap().into_inner(),
    )
    .unwrap();
    // Telegram Desktop: result.json beside photos/.
    let tg = input.join("tg");
    std::fs::create_dir_all(tg.join("photos")).unwrap();
    std::fs::write(tg.join("photos/photo_1@21-08-2013_03-30-00.jpg"), photo(4)).unwrap();
    std::fs::write(
        tg.join("result.json"),
        r#"{"name":"Ghouta","type":"private_group","id":7,"messages":[
            {"id":1,"type":"message","date":"2013-08-21T03:30:00","from":"Medic",
             "photo":"photos/photo_1@21-08-2013_03-30-00.jpg","text":"casualties at the clinic"}]}"#,
    )
    .unwrap();
    // Telegram Desktop in HTML: messages.html beside photos/.
    let th = input.join("th");
    std::fs::create_dir_all(th.join("photos")).unwrap();
    std::fs::write(th.join("photos/photo_2@21-08-2013_04-00-00.jpg"), photo(6)).unwrap();
    std::fs::write(
        th.join("messages.html"),
        r#"<!DOCTYPE html><html><body><div class="history">
 <div class="message default clearfix" id="message9"><div class="body">
  <div class="pull_right date details" title="21.08.2013 04:00:00 UTC+03:00">04:00</div>
  <div class="from_name">Medic</div>
  <div class="media_wrap clearfix"><a class="photo_wrap clearfix pull_left" href="photos/photo_2@21-08-2013_04-00-00.jpg"></a></div>
  <div class="text">the second wave</div>
 </div></div></div></body></html>"#,
    )
    .unwrap();
    // Signal (signal-export): index.md with media/.
    let sg = input.join("sg");
    std::fs::create_dir_all(sg.join("media")).unwrap();
    std::fs::write(sg.join("media/clip.jpg"), photo(5)).unwrap();
    std::fs::write(
        sg.join("index.md"),
        "[2019-05-29, 15:04] Aya: the school ![clip.jpg](./media/clip.jpg)\n",
    )
    .unwrap();

    ingest(&case, &input);
    let all = items(&case);
    let check = |name: &str, app: &str, log: &str, sender: &str, at: &str, text: &str| {
        let item = named(&all, name);
        let chat = &item["metadata"]["chat"];
        assert_eq!(chat["app"], app, "{name}: {item:#}");
        assert_eq!(chat["log"], named(&all, log)["ref"], "{name}");
        assert_eq!(chat["sender"], sender, "{name}");
        assert_eq!(chat["sent_at"], at, "{name}");
        assert_eq!(chat["text"], text, "{name}");
    };
    let wa_log = "WhatsApp Chat with Field Team.txt";
    check(
        "IMG-20130821-WA0003.jpg",
        "WhatsApp",
        wa_log,
        "Abu Omar",
        "2013-08-21T03:14",
        "the hospital in Douma",
    );
    check(
        "00000012-PHOTO-2013-08-21-03-14-07.jpg",
        "WhatsApp",
        "_chat.txt",
        "Abu Omar",
        "2013-08-21T03:14:07",
        "",
    );
    check(
        "photo_1@21-08-2013_03-30-00.jpg",
        "Telegram",
        "result.json",
        "Medic",
        "2013-08-21T03:30:00",
        "casualties at the clinic",
    );
    check(
        "photo_2@21-08-2013_04-00-00.jpg",
        "Telegram",
        "messages.html",
        "Medic",
        "2013-08-21T04:00:00+03:00",
        "the second wave",
    );
    check(
        "clip.jpg",
        "Signal",
        "index.md",
        "Aya",
        "2019-05-29T15:04",
        "the school",
    );
    // A file the log does not name has no message; the log is an item of its own.
    assert!(named(&all, "IMG-20130821-WA0004.jpg")["metadata"]["chat"].is_null());
    let log = named(&all, wa_log);
    assert_eq!(log["type"], "text");
    assert_eq!(log["metadata"]["chat_log"]["messages"], 3);
    assert_eq!(
        log["metadata"]["chat_log"]["participants"],
        serde_json::json!(["Abu Omar", "Rami"])
    );

    // `show` prints the message; the audit log holds the link and verify passes.
    let r = named(&all, "IMG-20130821-WA0003.jpg")["ref"]
        .as_str()
        .unwrap()
        .to_string();
    let out = triage(&case, &["show", &r]);
    let text = output_text(&out);
    assert!(
        text.contains("Abu Omar") && text.contains("the hospital in Douma"),
        "{text}"
    );
    let out = triage(&case, &["show", &r, "--json"]);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        shown["history"].to_string().contains("chat.link"),
        "{:#}",
        shown["history"]
    );
    let out = triage(&case, &["verify"]);
    assert!(out.status.success(), "verify: {}", output_text(&out));
}

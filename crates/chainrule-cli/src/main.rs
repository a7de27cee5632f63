//! The `chainrule` command line (contract: shared/CLI.md).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version") | Some("-V") => println!("chainrule {}", env!("CARGO_PKG_VERSION")),
        _ => {
            eprintln!("usage: chainrule --version");
            std::process::exit(2);
        }
    }
}

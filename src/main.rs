use clap::Parser;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AMENDA_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,rocket=error,_=error")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = amenda::cli::Cli::parse();
    if let Err(e) = amenda::cli::run(cli) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

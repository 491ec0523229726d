fn main() {
    std::process::exit(why_task_failed::cli::main());
}

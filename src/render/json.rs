use crate::model::Report;
use std::io::{self, Write};

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // `From` keeps the kind of an I/O error (a closed pipe stays `BrokenPipe`).
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::from)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that went away (`| head`).
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn closed_pipe_stays_a_broken_pipe_error() {
        let err = render(&Report::default(), &mut ClosedPipe).expect_err("writing to a closed pipe fails");
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}

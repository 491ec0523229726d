//! CloudWatch Logs over the SDK.

use super::LiveAws;
use crate::model::task::LogGroup;
use crate::source::error::SourceError;
use crate::source::logs::LogsSource;

impl LogsSource for LiveAws {
    async fn find_log_group(&self, name: &str, region: &str) -> Result<Option<LogGroup>, SourceError> {
        let client = aws_sdk_cloudwatchlogs::Client::new(&self.config_for(region));
        let mut token: Option<String> = None;
        // A prefix query returns the group itself first (names sort lexically); later pages only matter when
        // many groups share the prefix.
        loop {
            let request =
                client.describe_log_groups().log_group_name_prefix(name).limit(50).set_next_token(token.take()).send();
            let out = self.call("logs:DescribeLogGroups", name, request).await?;
            if let Some(g) = out.log_groups().iter().find(|g| g.log_group_name() == Some(name)) {
                return Ok(Some(LogGroup {
                    name: name.to_string(),
                    arn: g.arn().map(str::to_string),
                    kms_key_id: g.kms_key_id().map(str::to_string),
                }));
            }
            match out.next_token() {
                Some(t) if !t.is_empty() && out.log_groups().iter().all(|g| g.log_group_name() < Some(name)) => {
                    token = Some(t.to_string())
                }
                _ => return Ok(None),
            }
        }
    }
}

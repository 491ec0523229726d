//! CloudTrail `eventName` → IAM action, where the two differ.
//!
//! Most services log the API operation name, which is also the IAM action name. The exceptions are S3
//! (`ListBuckets` is authorized as `s3:ListAllMyBuckets`, `HeadObject` as `s3:GetObject`, …), Lambda and
//! CloudFront (event names carry an API-version suffix), and services whose CloudTrail `eventSource` host is
//! not their IAM service prefix (`monitoring` → `cloudwatch`, `email` → `ses`).

/// `eventSource` host label → IAM service prefix, where they differ.
const SERVICE_PREFIXES: &[(&str, &str)] = &[
    ("monitoring", "cloudwatch"),
    ("email", "ses"),
    ("tagging", "tag"),
    ("elasticbeanstalk", "elasticbeanstalk"),
    ("appstream2", "appstream"),
    ("sso-directory", "sso-directory"),
    ("metering-marketplace", "aws-marketplace"),
    ("marketplacecommerceanalytics", "marketplacecommerceanalytics"),
];

/// (service prefix, eventName) → IAM actions (without the prefix).
const RENAMED: &[(&str, &str, &[&str])] = &[
    ("s3", "ListBuckets", &["ListAllMyBuckets"]),
    ("s3", "HeadObject", &["GetObject"]),
    ("s3", "HeadBucket", &["ListBucket"]),
    ("s3", "ListObjects", &["ListBucket"]),
    ("s3", "ListObjectsV2", &["ListBucket"]),
    ("s3", "ListObjectVersions", &["ListBucketVersions"]),
    ("s3", "ListMultipartUploads", &["ListBucketMultipartUploads"]),
    ("s3", "ListParts", &["ListMultipartUploadParts"]),
    ("s3", "CreateMultipartUpload", &["PutObject"]),
    ("s3", "UploadPart", &["PutObject"]),
    ("s3", "UploadPartCopy", &["PutObject", "GetObject"]),
    ("s3", "CompleteMultipartUpload", &["PutObject"]),
    ("s3", "CopyObject", &["PutObject", "GetObject"]),
    ("s3", "DeleteObjects", &["DeleteObject"]),
    ("s3", "SelectObjectContent", &["GetObject"]),
    ("s3", "GetBucketEncryption", &["GetEncryptionConfiguration"]),
    ("s3", "PutBucketEncryption", &["PutEncryptionConfiguration"]),
    ("s3", "DeleteBucketEncryption", &["PutEncryptionConfiguration"]),
    ("s3", "GetBucketLifecycle", &["GetLifecycleConfiguration"]),
    ("s3", "GetBucketLifecycleConfiguration", &["GetLifecycleConfiguration"]),
    ("s3", "PutBucketLifecycle", &["PutLifecycleConfiguration"]),
    ("s3", "PutBucketLifecycleConfiguration", &["PutLifecycleConfiguration"]),
    ("s3", "DeleteBucketLifecycle", &["PutLifecycleConfiguration"]),
    ("s3", "GetBucketReplication", &["GetReplicationConfiguration"]),
    ("s3", "PutBucketReplication", &["PutReplicationConfiguration"]),
    ("s3", "DeleteBucketReplication", &["PutReplicationConfiguration"]),
    ("s3", "GetBucketCors", &["GetBucketCORS"]),
    ("s3", "PutBucketCors", &["PutBucketCORS"]),
    ("s3", "DeleteBucketCors", &["PutBucketCORS"]),
    ("s3", "GetBucketNotificationConfiguration", &["GetBucketNotification"]),
    ("s3", "PutBucketNotificationConfiguration", &["PutBucketNotification"]),
    ("s3", "GetObjectLockConfiguration", &["GetBucketObjectLockConfiguration"]),
    ("s3", "PutObjectLockConfiguration", &["PutBucketObjectLockConfiguration"]),
    ("s3", "GetBucketAnalyticsConfiguration", &["GetAnalyticsConfiguration"]),
    ("s3", "PutBucketAnalyticsConfiguration", &["PutAnalyticsConfiguration"]),
    ("s3", "GetBucketInventoryConfiguration", &["GetInventoryConfiguration"]),
    ("s3", "PutBucketInventoryConfiguration", &["PutInventoryConfiguration"]),
    ("s3", "GetBucketMetricsConfiguration", &["GetMetricsConfiguration"]),
    ("s3", "PutBucketMetricsConfiguration", &["PutMetricsConfiguration"]),
    ("s3", "GetBucketIntelligentTieringConfiguration", &["GetIntelligentTieringConfiguration"]),
    ("s3", "PutBucketIntelligentTieringConfiguration", &["PutIntelligentTieringConfiguration"]),
    ("s3", "GetPublicAccessBlock", &["GetBucketPublicAccessBlock"]),
    ("s3", "PutPublicAccessBlock", &["PutBucketPublicAccessBlock"]),
    ("s3", "DeletePublicAccessBlock", &["PutBucketPublicAccessBlock"]),
    ("s3", "GetBucketOwnershipControls", &["GetBucketOwnershipControls"]),
    ("s3", "DeleteBucketTagging", &["PutBucketTagging"]),
    ("s3", "DeleteObjectTagging", &["DeleteObjectTagging"]),
    ("s3", "DeleteBucketWebsite", &["DeleteBucketWebsite"]),
    ("lambda", "Invoke", &["InvokeFunction"]),
    ("lambda", "InvokeAsync", &["InvokeAsync"]),
    ("lambda", "InvokeWithResponseStream", &["InvokeFunction"]),
    ("ecr", "PutImage", &["PutImage"]),
    ("dynamodb", "DescribeStream", &["DescribeStream"]),
];

/// The IAM service prefix for a CloudTrail `eventSource` (`s3.amazonaws.com` → `s3`,
/// `monitoring.amazonaws.com` → `cloudwatch`, `runtime.sagemaker.amazonaws.com` → `sagemaker`).
pub fn service_prefix(event_source: &str) -> String {
    let host = event_source.trim().trim_end_matches(".amazonaws.com").trim_end_matches(".amazonaws.com.cn");
    // `runtime.sagemaker`, `streams.dynamodb`, `api.mediatailor`: the service is the last label.
    let label = host.rsplit('.').next().unwrap_or(host);
    SERVICE_PREFIXES.iter().find(|(from, _)| *from == label).map(|(_, to)| (*to).to_string()).unwrap_or(label.into())
}

/// Lambda and CloudFront log versioned operation names (`GetFunction20150331v2`, `GetDistribution2020_05_31`).
fn strip_api_version(event_name: &str) -> &str {
    let bytes = event_name.as_bytes();
    let mut end = bytes.len();
    // optional `v<digits>`
    let mut i = end;
    while i > 0 && bytes[i - 1].is_ascii_digit() {
        i -= 1;
    }
    if i < end && i > 0 && bytes[i - 1] == b'v' {
        end = i - 1;
    }
    // trailing run of digits and underscores that starts with a 4-digit year
    let mut j = end;
    while j > 0 && (bytes[j - 1].is_ascii_digit() || bytes[j - 1] == b'_') {
        j -= 1;
    }
    let suffix = &event_name[j..end];
    let digits = suffix.bytes().filter(u8::is_ascii_digit).count();
    if j > 0 && digits == 8 && suffix.starts_with("20") { &event_name[..j] } else { event_name }
}

/// The IAM action(s) that authorize a CloudTrail event. Usually one; `CopyObject` needs two.
pub fn iam_actions_for_event(event_source: &str, event_name: &str) -> Vec<String> {
    let prefix = service_prefix(event_source);
    if prefix.is_empty() || event_name.is_empty() {
        return Vec::new();
    }
    let name =
        if matches!(prefix.as_str(), "lambda" | "cloudfront") { strip_api_version(event_name) } else { event_name };
    match RENAMED.iter().find(|(p, n, _)| *p == prefix && *n == name) {
        Some((_, _, actions)) => actions.iter().map(|a| format!("{prefix}:{a}")).collect(),
        None => vec![format!("{prefix}:{name}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_names_that_differ_from_iam() {
        assert_eq!(iam_actions_for_event("s3.amazonaws.com", "ListBuckets"), ["s3:ListAllMyBuckets"]);
        assert_eq!(iam_actions_for_event("s3.amazonaws.com", "HeadObject"), ["s3:GetObject"]);
        assert_eq!(iam_actions_for_event("s3.amazonaws.com", "HeadBucket"), ["s3:ListBucket"]);
        assert_eq!(iam_actions_for_event("s3.amazonaws.com", "CopyObject"), ["s3:PutObject", "s3:GetObject"]);
        assert_eq!(iam_actions_for_event("s3.amazonaws.com", "GetBucketLocation"), ["s3:GetBucketLocation"]);
    }

    #[test]
    fn identical_names_pass_through_with_service_prefix() {
        assert_eq!(iam_actions_for_event("ecr.amazonaws.com", "GetAuthorizationToken"), ["ecr:GetAuthorizationToken"]);
        assert_eq!(
            iam_actions_for_event("secretsmanager.amazonaws.com", "GetSecretValue"),
            ["secretsmanager:GetSecretValue"]
        );
        assert_eq!(iam_actions_for_event("logs.amazonaws.com", "CreateLogStream"), ["logs:CreateLogStream"]);
        assert_eq!(iam_actions_for_event("sts.amazonaws.com", "AssumeRole"), ["sts:AssumeRole"]);
    }

    #[test]
    fn event_source_exceptions_and_versioned_names() {
        assert_eq!(iam_actions_for_event("monitoring.amazonaws.com", "PutMetricData"), ["cloudwatch:PutMetricData"]);
        assert_eq!(iam_actions_for_event("email.amazonaws.com", "SendEmail"), ["ses:SendEmail"]);
        assert_eq!(iam_actions_for_event("lambda.amazonaws.com", "GetFunction20150331v2"), ["lambda:GetFunction"]);
        assert_eq!(iam_actions_for_event("lambda.amazonaws.com", "Invoke"), ["lambda:InvokeFunction"]);
        assert_eq!(
            iam_actions_for_event("cloudfront.amazonaws.com", "GetDistribution2020_05_31"),
            ["cloudfront:GetDistribution"]
        );
        assert_eq!(
            iam_actions_for_event("runtime.sagemaker.amazonaws.com", "InvokeEndpoint"),
            ["sagemaker:InvokeEndpoint"]
        );
        assert!(iam_actions_for_event("", "X").is_empty());
    }
}

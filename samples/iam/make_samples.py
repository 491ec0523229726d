#!/usr/bin/env python3
"""Writes the IAM snapshot samples used by tests/verify*.rs.

Shapes follow the documented outputs of `aws iam get-account-authorization-details`, `aws organizations
describe-policy`, `aws kms get-key-policy`, `aws ecr get-repository-policy` and CloudTrail S3 log files
(`{"Records": [...]}`); account ids, ARNs and ids are the documentation placeholders (111122223333, 444455556666,
777788889999). Run from this directory: `python3 make_samples.py`.
"""
import json

ACCOUNT = "111122223333"
REGION = "us-east-1"
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders-api-task"
EXEC_ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/orders-api-execution"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
REPO = "arn:aws:ecr:us-east-1:444455556666:repository/platform/base-image"
TASK_ID = "5d1f3a9c0b7e4e2a8c6d4b2f0e8a6c4d"
DENY_POLICY = f"arn:aws:iam::{ACCOUNT}:policy/deny-prod-secrets"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


ecs_trust_unconditioned = doc({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                               "Action": "sts:AssumeRole"})
ecs_trust_conditioned = doc({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                             "Action": "sts:AssumeRole",
                             "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:*"},
                                           "StringEquals": {"aws:SourceAccount": ACCOUNT}}})

authorization_details = {
    "UserDetailList": [],
    "GroupDetailList": [],
    "RoleDetailList": [
        {
            "Path": "/",
            "RoleName": "orders-api-task",
            "RoleId": "AROAYEXAMPLETASK0001",
            "Arn": TASK_ROLE,
            "CreateDate": "2024-03-01T09:00:00+00:00",
            "AssumeRolePolicyDocument": ecs_trust_conditioned,
            "InstanceProfileList": [],
            "RolePolicyList": [{
                "PolicyName": "orders-data",
                "PolicyDocument": doc(
                    {"Sid": "ReadConfig", "Effect": "Allow", "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::orders-config/*"},
                    {"Sid": "WriteExports", "Effect": "Allow", "Action": "s3:PutObject",
                     "Resource": "arn:aws:s3:::orders-exports/*"}),
            }],
            "AttachedManagedPolicies": [{"PolicyName": "deny-prod-secrets", "PolicyArn": DENY_POLICY}],
            "Tags": [{"Key": "team", "Value": "orders"}],
            "RoleLastUsed": {"LastUsedDate": "2024-05-01T10:14:00+00:00", "Region": REGION},
        },
        {
            "Path": "/service-role/",
            "RoleName": "orders-api-execution",
            "RoleId": "AROAYEXAMPLEEXEC0001",
            "Arn": EXEC_ROLE,
            "CreateDate": "2024-03-01T09:00:00+00:00",
            "AssumeRolePolicyDocument": ecs_trust_unconditioned,
            "InstanceProfileList": [],
            "RolePolicyList": [{
                "PolicyName": "pull-and-logs",
                "PolicyDocument": doc(
                    # Scoped to a repository: GetAuthorizationToken supports no resource, so this never matches.
                    {"Sid": "RegistryAuth", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
                     "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/orders-api"},
                    {"Sid": "Pull", "Effect": "Allow",
                     "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                     "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*"},
                    {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                     "Resource": "*"},
                    {"Sid": "Secrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                     "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:orders/db-*"},
                    {"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY},
                    {"Sid": "Reports", "Effect": "Allow", "Action": "dynamodb:Query",
                     "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"}),
            }],
            "AttachedManagedPolicies": [],
            "Tags": [],
            "RoleLastUsed": {"LastUsedDate": "2024-05-01T10:14:00+00:00", "Region": REGION},
        },
    ],
    "Policies": [
        {
            "PolicyName": "deny-prod-secrets",
            "PolicyId": "ANPAYEXAMPLEDENY0001",
            "Arn": DENY_POLICY,
            "Path": "/",
            "DefaultVersionId": "v2",
            "AttachmentCount": 1,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True,
            "CreateDate": "2024-02-01T09:00:00+00:00",
            "UpdateDate": "2024-04-01T09:00:00+00:00",
            "PolicyVersionList": [
                {"Document": doc({"Sid": "DenyProdSecrets", "Effect": "Deny",
                                  "Action": "secretsmanager:GetSecretValue",
                                  "Resource": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/*"}),
                 "VersionId": "v2", "IsDefaultVersion": True, "CreateDate": "2024-04-01T09:00:00+00:00"},
                # An older version that is no longer in force: must be ignored.
                {"Document": doc({"Effect": "Deny", "Action": "*", "Resource": "*"}),
                 "VersionId": "v1", "IsDefaultVersion": False, "CreateDate": "2024-02-01T09:00:00+00:00"},
            ],
        },
    ],
}

scp_root = {"Policy": {
    "PolicySummary": {"Id": "p-FullAWSAccess", "Arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
                      "Name": "FullAWSAccess", "Description": "Allows access to every operation",
                      "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": True},
    "Content": json.dumps(doc({"Effect": "Allow", "Action": "*", "Resource": "*"})),
}}
scp_ou = {"Policy": {
    "PolicySummary": {"Id": "p-s3vpce01", "Arn": "arn:aws:organizations::999988887777:policy/o-exampleorgid/service_control_policy/p-s3vpce01",
                      "Name": "deny-s3-writes-outside-vpce", "Description": "S3 writes only through the VPC endpoint",
                      "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": False},
    "Content": json.dumps(doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "DenyS3WritesOutsideVpce", "Effect": "Deny", "Action": ["s3:PutObject", "s3:DeleteObject"],
         "Resource": "*", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}}})),
}}

key_policy = {"PolicyName": "default", "Policy": json.dumps(doc(
    {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/KeyAdmins"},
     "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
                "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
                "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
     "Resource": "*"},
    {"Sid": "Allow use of the key by payments", "Effect": "Allow",
     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/payments-api-task"},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
     "Resource": "*"}), indent=2)}

repository_policy = {"registryId": "444455556666", "repositoryName": "platform/base-image",
                     "policyText": json.dumps(doc({"Sid": "AllowAnalyticsPull", "Effect": "Allow",
                                                   "Principal": {"AWS": "arn:aws:iam::777788889999:root"},
                                                   "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                                              "ecr:BatchCheckLayerAvailability"]}), indent=2)}


def event(n, role_name, role_arn, source, name, error_code, message, request, user_agent, resources=None,
          via=None):
    record = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAYEXAMPLE{n:04d}:{TASK_ID}",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{TASK_ID}",
            "accountId": ACCOUNT,
            "accessKeyId": f"ASIAYEXAMPLEKEY{n:05d}",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": f"AROAYEXAMPLE{n:04d}", "arn": role_arn,
                                  "accountId": ACCOUNT, "userName": role_name},
                "webIdFederationData": {},
                "attributes": {"creationDate": "2024-05-01T10:14:00Z", "mfaAuthenticated": "false"},
            },
        },
        "eventTime": f"2024-05-01T10:15:{n:02d}Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": "10.0.12.34",
        "userAgent": user_agent,
        "errorCode": error_code,
        "errorMessage": message,
        "requestParameters": request,
        "responseElements": None,
        "requestID": f"{n:08d}-5b1e-4c3a-9d2f-7a6b5c4d3e2f",
        "eventID": f"{n:08d}-7c2d-4e1f-8a3b-9c8d7e6f5a4b",
        "readOnly": name.startswith(("Get", "BatchGet", "Decrypt")),
        "resources": resources,
        "eventType": "AwsApiCall",
        "managementEvent": name not in ("GetObject", "PutObject"),
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management" if name not in ("GetObject", "PutObject") else "Data",
    }
    if via:
        # A service calling with the role's credentials (forward access session) names itself here.
        record["userIdentity"]["invokedBy"] = via
        record["sourceIPAddress"] = via
        record["userAgent"] = via
    return record


APP_UA = "Boto3/1.34.90 md/Botocore#1.34.90 ua/2.0 os/linux#5.10.214 md/arch#x86_64 lang/python#3.12.3"
AGENT_UA = "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 amazon-ecs-agent/1.82.1"
exec_assumed = f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-api-execution/{TASK_ID}"
task_assumed = f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-api-task/{TASK_ID}"
records = [
    # 1. Identity policy lacks the bucket: the fix adds a resource to the existing `ReadConfig` statement.
    event(1, "orders-api-task", TASK_ROLE, "s3.amazonaws.com", "GetObject", "AccessDenied", "Access Denied",
          {"bucketName": "orders-reports", "key": "2024/05/summary.csv", "Host": "orders-reports.s3.amazonaws.com"},
          APP_UA),
    # 2. The identity policy allows, the OU's SCP denies writes outside the VPC endpoint.
    event(2, "orders-api-task", TASK_ROLE, "s3.amazonaws.com", "PutObject", "AccessDenied", "Access Denied",
          {"bucketName": "orders-exports", "key": "daily/2024-05-01.csv", "Host": "orders-exports.s3.amazonaws.com"},
          APP_UA),
    # 3. An explicit deny in a customer managed policy, and no Allow behind it.
    event(3, "orders-api-task", TASK_ROLE, "secretsmanager.amazonaws.com", "GetSecretValue", "AccessDenied",
          f"User: {task_assumed} is not authorized to perform: secretsmanager:GetSecretValue on resource: "
          f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/orders/api-key-Xy12Ab with an explicit deny in an "
          f"identity-based policy: {DENY_POLICY}",
          {"secretId": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/orders/api-key-Xy12Ab"}, APP_UA),
    # 4. Cross-account pull: both the repository policy (account 4444...) and the role's own policy must allow.
    event(4, "orders-api-execution", EXEC_ROLE, "ecr.amazonaws.com", "BatchGetImage", "AccessDeniedException",
          f"User: {exec_assumed} is not authorized to perform: ecr:BatchGetImage on resource: {REPO} because no "
          "resource-based policy allows the ecr:BatchGetImage action",
          {"registryId": "444455556666", "repositoryName": "platform/base-image",
           "imageIds": [{"imageTag": "2024.05"}], "acceptedMediaTypes": ["application/vnd.docker.distribution.manifest.v2+json"]},
          AGENT_UA),
    # 5. The key policy neither names the role nor delegates to the account: the identity Allow does not count.
    #    Secrets Manager decrypts the secret with the execution role's credentials while ECS fetches it.
    event(5, "orders-api-execution", EXEC_ROLE, "kms.amazonaws.com", "Decrypt", "AccessDeniedException",
          f"User: {exec_assumed} is not authorized to perform: kms:Decrypt on resource: {KEY} because no "
          "resource-based policy allows the kms:Decrypt action",
          {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"SecretARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:orders/db-AbCdEf"}},
          AGENT_UA, resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": KEY}],
          via="secretsmanager.amazonaws.com"),
    # 6. GetAuthorizationToken scoped to a repository ARN never matches.
    event(6, "orders-api-execution", EXEC_ROLE, "ecr.amazonaws.com", "GetAuthorizationToken",
          "AccessDeniedException",
          f"User: {exec_assumed} is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no "
          "identity-based policy allows the ecr:GetAuthorizationToken action",
          {"registryIds": [ACCOUNT]}, AGENT_UA),
]

files = {
    "account-authorization-details.json": authorization_details,
    "scp-root-full-aws-access.json": scp_root,
    "scp-ou-deny-s3-writes-outside-vpce.json": scp_ou,
    "kms-get-key-policy.json": key_policy,
    "ecr-get-repository-policy.json": repository_policy,
    "trail/denied-calls.json": {"Records": records},
}
for path, content in files.items():
    with open(path, "w") as f:
        json.dump(content, f, indent=2)
        f.write("\n")

#!/usr/bin/env python3
"""Writes the trail samples (deterministic). Field shapes follow the CloudTrail record contents reference
(docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html), the
`lookup-events` and `get-query-results` CLI output, and the S3 delivery layout. Values are invented."""
import gzip, json, os, shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ACCT, ORG_ACCT, ORG = "111122223333", "444455556666", "o-a1b2c3d4e5"
TASK1, TASK2 = "8f3e2b9d1c4a4e0f9b7a6c5d4e3f2a1b", "0c5d7e9f1a2b4c6d8e0f1a3b5c7d9e2f"
AGENT_UA = "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/secretsmanager#1.26.0 amazon-ecs-agent/1.80.0"
BOTO_UA = "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.84"
CLI_UA = "aws-cli/2.15.40 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#ecs.run-task"
n = 0


def eid():
    global n
    n += 1
    return f"{n:08x}-5b1e-4c3a-9d2f-7a6b5c4d3e2f"


def assumed(acct, role, session, path="/"):
    return {
        "type": "AssumedRole",
        "principalId": f"AROAYEXAMPLE{role[:8].upper()}:{session}",
        "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{session}",
        "accountId": acct,
        "accessKeyId": "ASIAYEXAMPLEKEY00001",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": f"AROAYEXAMPLE{role[:8].upper()}",
                              "arn": f"arn:aws:iam::{acct}:role{path}{role}", "accountId": acct, "userName": role},
            "webIdFederationData": {},
            "attributes": {"creationDate": "2024-05-01T10:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def iam_user(acct, name):
    return {"type": "IAMUser", "principalId": "AIDAYEXAMPLEUSER0001", "arn": f"arn:aws:iam::{acct}:user/{name}",
            "accountId": acct, "accessKeyId": "AKIAYEXAMPLEKEY00002", "userName": name}


def record(t, source, name, identity, region="us-east-1", acct=ACCT, ua=BOTO_UA, ip="10.0.12.34", req=None,
           resp=None, code=None, msg=None, resources=None, read_only=True, vpce=None):
    r = {"eventVersion": "1.09", "userIdentity": identity, "eventTime": t, "eventSource": source, "eventName": name,
         "awsRegion": region, "sourceIPAddress": ip, "userAgent": ua}
    if code:
        r["errorCode"] = code
    if msg:
        r["errorMessage"] = msg
    r["requestParameters"] = req
    r["responseElements"] = resp
    r["requestID"] = eid()
    r["eventID"] = eid()
    r["readOnly"] = read_only
    if resources:
        r["resources"] = resources
    r["eventType"] = "AwsApiCall"
    r["managementEvent"] = source not in ("s3.amazonaws.com",)
    r["recipientAccountId"] = acct
    if vpce:
        r["vpcEndpointId"] = vpce
    r["eventCategory"] = "Management" if r["managementEvent"] else "Data"
    r["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": source.replace("amazonaws.com", f"{region}.amazonaws.com")}
    return r


EXEC = "orders-api-execution-role"
TASKROLE = "orders-api-task-role"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/orders/db-AbCdEf"
KEY = f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def exec_secret_denied(t, task):
    msg = (f"User: arn:aws:sts::{ACCT}:assumed-role/{EXEC}/{task} is not authorized to perform: "
           f"secretsmanager:GetSecretValue on resource: {SECRET} because no identity-based policy allows the "
           "secretsmanager:GetSecretValue action")
    return record(t, "secretsmanager.amazonaws.com", "GetSecretValue", assumed(ACCT, EXEC, task), ua=AGENT_UA,
                  ip="10.0.12.34", req={"secretId": SECRET}, code="AccessDenied", msg=msg)


def ok_events(t, count):
    out = []
    for i in range(count):
        out.append(record(t, "ecr.amazonaws.com", "GetAuthorizationToken", assumed(ACCT, EXEC, TASK1), ua=AGENT_UA,
                          req={"registryIds": [ACCT]}, resp=None))
        out.append(record(t, "ecs.amazonaws.com", "DescribeTasks", iam_user(ACCT, "oncall-alice"), ua=CLI_UA,
                          req={"cluster": "prod", "tasks": [TASK1], "include": []}, resp=None))
    return out


def traps(t):
    # Successful calls whose parameters or response mention errorCode / AccessDenied: not denials.
    return [
        record(t, "states.amazonaws.com", "SendTaskFailure", assumed(ACCT, TASKROLE, TASK1),
               req={"taskToken": "AQB4AAAAKgAAAAMAAAAAAAAAAexampleToken", "error": "AccessDenied",
                    "cause": "{\"errorCode\":\"AccessDenied\",\"errorMessage\":\"Access Denied\"}"}, read_only=False),
        record(t, "events.amazonaws.com", "PutEvents", assumed(ACCT, TASKROLE, TASK1),
               req={"entries": [{"source": "orders", "detailType": "audit", "detail": {"errorCode": "AccessDenied"}}]},
               resp={"failedEntryCount": 1, "entries": [{"errorCode": "AccessDeniedException",
                                                         "errorMessage": "Not authorized to put events"}]},
               read_only=False),
        record(t, "s3.amazonaws.com", "GetObject", assumed(ACCT, TASKROLE, TASK1),
               req={"bucketName": "orders-exports", "Host": "orders-exports.s3.us-east-1.amazonaws.com",
                    "key": "reports/AccessDenied-errorCode.csv"}, resp=None,
               resources=[{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::orders-exports/reports/AccessDenied-errorCode.csv"}]),
        # An error, but not a denial.
        record(t, "s3.amazonaws.com", "GetObject", assumed(ACCT, TASKROLE, TASK1), code="NoSuchKey",
               msg="The specified key does not exist.", req={"bucketName": "orders-exports", "key": "missing.csv"}),
        record(t, "ssm.amazonaws.com", "GetParameters", assumed(ACCT, EXEC, TASK1), ua=AGENT_UA,
               code="ThrottlingException", msg="Rate exceeded", req={"names": ["/orders/flag"], "withDecryption": True}),
    ]


def main_account_file_1():
    t = "2024-05-01T10:05:01Z"
    recs = ok_events(t, 3) + traps(t)
    recs.append(exec_secret_denied("2024-05-01T10:05:01Z", TASK1))
    recs.append(exec_secret_denied("2024-05-01T10:05:03Z", TASK1))
    # Task role: S3 HeadObject, bare "Access Denied" (S3 data event).
    recs.append(record("2024-05-01T10:05:30Z", "s3.amazonaws.com", "HeadObject", assumed(ACCT, TASKROLE, TASK2),
                       code="AccessDenied", msg="Access Denied",
                       req={"bucketName": "orders-exports", "Host": "orders-exports.s3.us-east-1.amazonaws.com",
                            "key": "daily/2024-05-01.csv"},
                       resources=[{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::orders-exports/daily/2024-05-01.csv"},
                                  {"accountId": ACCT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::orders-exports"}]))
    return recs


def main_account_file_2():
    recs = ok_events("2024-05-01T10:10:00Z", 2)
    recs.append(exec_secret_denied("2024-05-01T10:10:02Z", TASK2))
    # Task role: KMS key policy.
    recs.append(record("2024-05-01T10:10:40Z", "kms.amazonaws.com", "Decrypt", assumed(ACCT, TASKROLE, TASK2),
                       code="AccessDeniedException",
                       msg=(f"User: arn:aws:sts::{ACCT}:assumed-role/{TASKROLE}/{TASK2} is not authorized to perform: "
                            f"kms:Decrypt on resource: {KEY} because no resource-based policy allows the kms:Decrypt action"),
                       req={"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}, resources=[{"accountId": ACCT, "type": "AWS::KMS::Key", "ARN": KEY}]))
    # Deployer cannot pass the execution role.
    recs.append(record("2024-05-01T10:11:00Z", "ecs.amazonaws.com", "RegisterTaskDefinition", iam_user(ACCT, "deploy-bot"),
                       ua=CLI_UA, ip="203.0.113.10", code="AccessDeniedException",
                       msg=(f"User: arn:aws:iam::{ACCT}:user/deploy-bot is not authorized to perform: iam:PassRole on "
                            f"resource: arn:aws:iam::{ACCT}:role/{EXEC} because no identity-based policy allows the iam:PassRole action"),
                       req={"family": "orders-api", "executionRoleArn": f"arn:aws:iam::{ACCT}:role/{EXEC}"}, read_only=False))
    # Through a VPC endpoint.
    recs.append(record("2024-05-01T10:12:00Z", "s3.amazonaws.com", "PutObject", assumed(ACCT, TASKROLE, TASK2),
                       code="AccessDenied",
                       msg=(f"User: arn:aws:sts::{ACCT}:assumed-role/{TASKROLE}/{TASK2} is not authorized to perform: "
                            "s3:PutObject on resource: \"arn:aws:s3:::orders-exports/out/result.json\" because no VPC endpoint "
                            "policy allows the s3:PutObject action"),
                       req={"bucketName": "orders-exports", "key": "out/result.json"}, vpce="vpce-0a1b2c3d4e5f67890",
                       read_only=False))
    return recs


def org_file():
    r = "eu-west-1"
    scp = f"arn:aws:organizations::999988887777:policy/{ORG}/service_control_policy/p-2kgnabcd"
    recs = ok_events("2024-05-01T10:15:00Z", 1)
    recs.append(record("2024-05-01T10:15:10Z", "ec2.amazonaws.com", "RunInstances", assumed(ORG_ACCT, "batch-launcher", "i-0123456789abcdef0"),
                       region=r, acct=ORG_ACCT, code="Client.UnauthorizedOperation",
                       msg=("You are not authorized to perform this operation. User: arn:aws:sts::444455556666:assumed-role/"
                            "batch-launcher/i-0123456789abcdef0 is not authorized to perform: ec2:RunInstances on resource: "
                            f"arn:aws:ec2:{r}:{ORG_ACCT}:instance/* with an explicit deny in a service control policy: {scp}. "
                            "Encoded authorization failure message: 4x8q5Kk1mO-EXAMPLE_ENCODED-9zq"),
                       req={"instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1}]},
                            "instanceType": "m7g.large"}, read_only=False))
    recs.append(record("2024-05-01T10:15:20Z", "sts.amazonaws.com", "AssumeRole", assumed(ORG_ACCT, "ci-runner", "gha-run-9911"),
                       region=r, acct=ORG_ACCT, code="AccessDenied",
                       msg=(f"User: arn:aws:sts::{ORG_ACCT}:assumed-role/ci-runner/gha-run-9911 is not authorized to perform: "
                            f"sts:AssumeRole on resource: arn:aws:iam::{ORG_ACCT}:role/prod-deployer because no role trust "
                            "policy allows the sts:AssumeRole action"),
                       req={"roleArn": f"arn:aws:iam::{ORG_ACCT}:role/prod-deployer", "roleSessionName": "deploy"}))
    recs.append(record("2024-05-01T10:15:30Z", "ec2.amazonaws.com", "DescribeInstances", assumed(ORG_ACCT, "auditor", "alice"),
                       region=r, acct=ORG_ACCT, code="Client.UnauthorizedOperation",
                       msg="You are not authorized to perform this operation. Encoded authorization failure message: Qm9vayBFWEFNUExF"))
    return recs


def write_gz(path, data, members=1):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        step = -(-len(data) // members)
        for i in range(members):
            f.write(gzip.compress(data[i * step:(i + 1) * step], mtime=0))


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def main():
    global n
    root = os.path.join(HERE, "s3")
    shutil.rmtree(root, ignore_errors=True)
    base = f"{root}/AWSLogs/{ACCT}/CloudTrail/us-east-1/2024/05/01"
    f1, f2, f3 = main_account_file_1(), main_account_file_2(), org_file()
    write_gz(f"{base}/{ACCT}_CloudTrail_us-east-1_20240501T1005Z_k3Lm9PqR2sT4uV6w.json.gz", dumps({"Records": f1}), members=2)
    write_gz(f"{base}/{ACCT}_CloudTrail_us-east-1_20240501T1010Z_Zx8Yw7Vu6Ts5Rq4P.json.gz", dumps({"Records": f2}))
    write_gz(f"{root}/AWSLogs/{ORG}/{ORG_ACCT}/CloudTrail/eu-west-1/2024/05/01/{ORG_ACCT}_CloudTrail_eu-west-1_20240501T1015Z_Ab1Cd2Ef3Gh4Ij5K.json.gz",
             dumps({"Records": f3}))
    digest = {"awsAccountId": ACCT, "digestStartTime": "2024-05-01T10:00:00Z", "digestEndTime": "2024-05-01T11:00:00Z",
              "digestS3Bucket": "org-trail-logs", "digestS3Object": "AWSLogs/.../CloudTrail-Digest/...json.gz",
              "digestPublicKeyFingerprint": "0123456789abcdef0123456789abcdef", "digestSignatureAlgorithm": "SHA256withRSA",
              "newestEventTime": "2024-05-01T10:12:00Z", "oldestEventTime": "2024-05-01T10:05:01Z",
              "previousDigestS3Bucket": "org-trail-logs", "previousDigestHashValue": "aa" * 32,
              "previousDigestHashAlgorithm": "SHA-256", "previousDigestSignature": "bb" * 64,
              "logFiles": [{"s3Bucket": "org-trail-logs", "s3Object": "AWSLogs/...json.gz", "hashValue": "cc" * 32,
                            "hashAlgorithm": "SHA-256", "newestEventTime": "2024-05-01T10:05:30Z", "oldestEventTime": "2024-05-01T10:05:01Z"}]}
    write_gz(f"{root}/AWSLogs/{ACCT}/CloudTrail-Digest/us-east-1/2024/05/01/{ACCT}_CloudTrail-Digest_us-east-1_orders-trail_us-east-1_20240501T110000Z.json.gz",
             dumps(digest))

    # lookup-events: one page (pretty, as the CLI prints it) and two pages concatenated.
    def lookup(recs):
        out = []
        for r in recs:
            ev = {"EventId": r["eventID"], "EventName": r["eventName"], "ReadOnly": str(r["readOnly"]).lower(),
                  "AccessKeyId": r["userIdentity"].get("accessKeyId", ""), "EventTime": r["eventTime"].replace("Z", "+00:00"),
                  "EventSource": r["eventSource"], "Username": r["userIdentity"]["arn"].rsplit("/", 1)[-1],
                  "Resources": [{"ResourceType": x.get("type"), "ResourceName": x.get("ARN")} for x in r.get("resources", [])],
                  "CloudTrailEvent": json.dumps(r, separators=(",", ":"))}
            out.append(ev)
        return out
    os.makedirs(f"{HERE}/lookup-events", exist_ok=True)
    mgmt = [r for r in f1 + f2 if r["managementEvent"]]
    with open(f"{HERE}/lookup-events/lookup-events.json", "w") as f:
        json.dump({"Events": lookup(mgmt), "NextToken": "eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAxfQ=="}, f, indent=4)
        f.write("\n")
    with open(f"{HERE}/lookup-events/lookup-events-paginated.json", "w") as f:
        half = len(mgmt) // 2
        json.dump({"Events": lookup(mgmt[:half]), "NextToken": "eyJOZXh0VG9rZW4iOiAicGFnZTIifQ=="}, f, indent=4)
        f.write("\n")
        json.dump({"Events": lookup(mgmt[half:])}, f, indent=4)
        f.write("\n")

    # CloudTrail Lake get-query-results: SELECT eventID, eventTime, eventSource, eventName, awsRegion,
    # recipientAccountId, errorCode, errorMessage, userIdentity, userAgent FROM <eds> WHERE errorCode IS NOT NULL
    def struct(identity):
        sc = identity.get("sessionContext", {}).get("sessionIssuer")
        issuer = ("null" if not sc else
                  f"{{type={sc['type']}, principalid={sc['principalId']}, arn={sc['arn']}, accountid={sc['accountId']}, username={sc['userName']}}}")
        return (f"{{type={identity['type']}, principalid={identity['principalId']}, arn={identity['arn']}, "
                f"accountid={identity['accountId']}, accesskeyid={identity['accessKeyId']}, username={identity.get('userName', 'null')}, "
                f"sessioncontext={{attributes={{creationdate=2024-05-01 10:00:00.000, mfaauthenticated=false}}, sessionissuer={issuer}, "
                "webidfederationdata=null, sourceidentity=null, ec2roledelivery=null, ec2issuedinvpc=null}, invokedby=null, "
                "identityprovider=null, credentialid=null, onbehalfof=null, inscopeof=null}")
    rows = []
    for r in f1 + f2:
        if "errorCode" not in r:
            continue
        rows.append([{"eventID": r["eventID"]}, {"eventTime": r["eventTime"].replace("T", " ").replace("Z", ".000")},
                     {"eventSource": r["eventSource"]}, {"eventName": r["eventName"]}, {"awsRegion": r["awsRegion"]},
                     {"recipientAccountId": r["recipientAccountId"]}, {"errorCode": r["errorCode"]},
                     {"errorMessage": r.get("errorMessage", "")}, {"userIdentity": struct(r["userIdentity"])},
                     {"userAgent": r["userAgent"]}])
    os.makedirs(f"{HERE}/lake", exist_ok=True)
    with open(f"{HERE}/lake/get-query-results.json", "w") as f:
        json.dump({"QueryStatus": "FINISHED", "QueryStatistics": {"ResultsCount": len(rows), "TotalResultsCount": len(rows),
                   "BytesScanned": 48213}, "QueryResultRows": rows}, f, indent=4)
        f.write("\n")

    # JSON lines (e.g. `jq -c '.Records[]'`).
    os.makedirs(f"{HERE}/jsonl", exist_ok=True)
    with open(f"{HERE}/jsonl/events.jsonl", "w") as f:
        for r in f3 + f1:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")

    # Bad inputs.
    bad = f"{HERE}/bad"
    shutil.rmtree(bad, ignore_errors=True)
    os.makedirs(bad)
    whole = gzip.compress(dumps({"Records": f2}), mtime=0)
    with open(f"{bad}/truncated.json.gz", "wb") as f:
        f.write(whole[: len(whole) * 2 // 3])
    text = json.dumps({"Records": f1}, indent=2)
    cut = text.index('"eventName": "HeadObject"')
    with open(f"{bad}/invalid.json", "w") as f:
        f.write(text[:cut] + '"eventName": HeadObject,' + text[cut + len('"eventName": "HeadObject",'):])
    with open(f"{bad}/other-shape.json", "w") as f:
        json.dump({"Users": [{"Path": "/", "UserName": "deploy-bot", "UserId": "AIDAYEXAMPLEUSER0001",
                              "Arn": f"arn:aws:iam::{ACCT}:user/deploy-bot", "CreateDate": "2023-01-10T09:00:00+00:00"}]}, f, indent=4)
    open(f"{bad}/empty.json", "w").close()
    lines = [json.dumps(r, separators=(",", ":")) for r in f3]
    lines[1] = lines[1][: len(lines[1]) // 2]
    with open(f"{bad}/broken-line.jsonl", "w") as f:
        f.write("\n".join(lines) + "\n")


main()

"""The live tests' scenarios, each built through the public AWS API (boto3 against the emulator) plus the fixtures
moto cannot model (stopped reasons, stop codes, CloudTrail history, service events).

Every builder returns the facts a test needs (task ARN, cluster, role ARNs, an EventBridge event for
``--task-event``). Texts follow the shapes AWS publishes: stopped reasons from the ECS developer guide's
"stopped task errors" pages and the samples in /work/shared/samples, CloudTrail records from the CloudTrail user
guide's record contents.
"""

import json
import uuid
from datetime import datetime, timedelta, timezone

import boto3

ACCOUNT = "123456789012"
REGION = "us-east-1"
ASSUME_ECS_TASKS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


class Emulator:
    def __init__(self, url, fixtures):
        self.url = url
        self.fixtures = fixtures

    def client(self, service, region=REGION):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def cloudtrail_record(name, source, when, session_arn=None, user_arn=None, error=None, request=None, response=None):
    """A CloudTrail record as CloudTrail writes it (see "CloudTrail record contents")."""
    if session_arn:
        role_name = session_arn.split("/")[1]
        identity = {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEROLEID:" + session_arn.rsplit("/", 1)[-1],
            "arn": session_arn,
            "accountId": ACCOUNT,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEROLEID",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/{role_name}",
                    "accountId": ACCOUNT,
                    "userName": role_name,
                },
                "attributes": {"creationDate": iso(when - timedelta(seconds=20)), "mfaAuthenticated": "false"},
            },
            "invokedBy": "ecs-tasks.amazonaws.com",
        }
    else:
        identity = {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEUSERID",
            "arn": user_arn,
            "accountId": ACCOUNT,
            "userName": user_arn.rsplit("/", 1)[-1],
        }
    record = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": iso(when),
        "eventSource": source,
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": "ecs-tasks.amazonaws.com" if session_arn else "203.0.113.10",
        "userAgent": "ecs-tasks.amazonaws.com" if session_arn else "aws-cli/2.15.0",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": name.startswith(("Get", "Describe", "List", "BatchGet")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error:
        record["errorCode"], record["errorMessage"] = error
    return record


class Base:
    """A Fargate task with an execution role, a task role, an ECR image, a log group and, optionally, a secret.
    Each knob is what a scenario breaks."""

    def __init__(self, emu, name):
        self.emu = emu
        self.name = name
        self.now = datetime.now(timezone.utc).replace(microsecond=0)
        self.iam = emu.client("iam")
        self.ecs = emu.client("ecs")
        self.cluster = f"why-{name}"
        self.exec_role = f"why-{name}-exec"
        self.app_role = f"why-{name}-app"
        self.repo = f"why/{name}"
        self.log_group = f"/ecs/why-{name}"
        self.image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{self.repo}:1.0"
        self.secrets = []  # (env name, valueFrom)
        self.task_arn = None

    def arn(self, kind):
        return {
            "exec": f"arn:aws:iam::{ACCOUNT}:role/{self.exec_role}",
            "app": f"arn:aws:iam::{ACCOUNT}:role/{self.app_role}",
            "repo": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{self.repo}",
            "logs": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{self.log_group}:*",
        }[kind]

    def roles(self, exec_trust=ASSUME_ECS_TASKS, exec_statements=None, managed=False, app_trust=ASSUME_ECS_TASKS):
        self.iam.create_role(RoleName=self.exec_role, AssumeRolePolicyDocument=json.dumps(exec_trust))
        self.iam.create_role(RoleName=self.app_role, AssumeRolePolicyDocument=json.dumps(app_trust))
        statements = exec_statements if exec_statements is not None else self.full_exec_statements()
        doc = json.dumps({"Version": "2012-10-17", "Statement": statements})
        if managed:
            policy = self.iam.create_policy(PolicyName=f"why-{self.name}-exec", PolicyDocument=doc)
            self.iam.attach_role_policy(RoleName=self.exec_role, PolicyArn=policy["Policy"]["Arn"])
        else:
            self.iam.put_role_policy(RoleName=self.exec_role, PolicyName="execution", PolicyDocument=doc)

    def full_exec_statements(self, extra_resources=()):
        statements = [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                "Resource": self.arn("repo"),
            },
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": self.arn("logs")},
        ]
        statements.extend(extra_resources)
        return statements

    def logs_ecr(self, log_group=True):
        ecr = self.emu.client("ecr")
        ecr.create_repository(repositoryName=self.repo)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023,
                           "digest": "sha256:" + "b" * 64},
                "layers": [],
            }
        )
        ecr.put_image(repositoryName=self.repo, imageManifest=manifest, imageTag="1.0")
        if log_group:
            self.emu.client("logs").create_log_group(logGroupName=self.log_group)

    def run(self):
        ec2 = self.emu.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        # moto names a task's ENI only in a VPC with DNS hostnames (and fails RunTask without a name).
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName=f"why-{self.name}", Description="task", VpcId=vpc)["GroupId"]
        self.ecs.create_cluster(clusterName=self.cluster)
        container = {
            "name": "app",
            "image": self.image,
            "essential": True,
            "memory": 512,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {"awslogs-group": self.log_group, "awslogs-region": REGION, "awslogs-stream-prefix": "app"},
            },
        }
        if self.secrets:
            container["secrets"] = [{"name": n, "valueFrom": v} for n, v in self.secrets]
        td = self.ecs.register_task_definition(
            family=f"why-{self.name}",
            executionRoleArn=self.arn("exec"),
            taskRoleArn=self.arn("app"),
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[container],
        )
        self.task_definition_arn = td["taskDefinition"]["taskDefinitionArn"]
        task = self.ecs.run_task(
            cluster=self.cluster,
            taskDefinition=self.task_definition_arn,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}
            },
        )["tasks"][0]
        self.task_arn = task["taskArn"]
        self.task_id = self.task_arn.rsplit("/", 1)[-1]
        return self.task_arn

    def session(self, role="exec"):
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.exec_role if role == 'exec' else self.app_role}/{self.task_id}"

    def stopped(self, reason, stop_code="TaskFailedToStart", container=None, expired=False):
        fields = {
            "lastStatus": "STOPPED",
            "desiredStatus": "STOPPED",
            "stopCode": stop_code,
            "stoppedReason": reason,
            "startedAt": None,
            "stoppingAt": iso(self.now - timedelta(minutes=2, seconds=10)),
            "stoppedAt": iso(self.now - timedelta(minutes=2)),
            "containers": {"app": dict({"lastStatus": "STOPPED"}, **(container or {}))},
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        if expired:
            fields["expired"] = True
        self.emu.fixtures.merge({"tasks": {self.task_arn: fields}})

    def trail(self, *records):
        """The records go to LookupEvents (fixtures) and, as a trail delivering to CloudWatch Logs would write
        them, to the log group `/aws/cloudtrail/why` (for `--trail-log-group`)."""
        self.emu.fixtures.merge({"cloudtrail_events": list(records)})
        logs = self.emu.client("logs")
        group, stream = "/aws/cloudtrail/why", f"{ACCOUNT}_CloudTrail_{REGION}"
        if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
            logs.create_log_group(logGroupName=group)
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        events = sorted(
            (
                {
                    "timestamp": int(datetime.fromisoformat(r["eventTime"].replace("Z", "+00:00")).timestamp() * 1000),
                    "message": json.dumps(r),
                }
                for r in records
            ),
            key=lambda e: e["timestamp"],
        )
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

    def facts(self, **extra):
        return dict(
            {
                "task_arn": self.task_arn,
                "task_id": self.task_id,
                "cluster": self.cluster,
                "execution_role_arn": self.arn("exec"),
                "task_role_arn": self.arn("app"),
                "repository_arn": self.arn("repo"),
                "log_group": self.log_group,
                "task_definition_arn": self.task_definition_arn,
            },
            **extra,
        )


def ecr_denied_reason(base):
    return (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
        "unable to retrieve ecr registry auth: service call has been retried 3 time(s): AccessDeniedException: "
        f"User: {base.session()} is not authorized to perform: ecr:GetAuthorizationToken on resource: * because "
        "no identity-based policy allows the ecr:GetAuthorizationToken action status code: 400, request id: "
        "3b5e1f2a-7c1d-4a8e-9f3b-2d6c8e0a1b2c"
    )


def ecr_denied_event(base):
    return cloudtrail_record(
        "GetAuthorizationToken",
        "ecr.amazonaws.com",
        base.now - timedelta(minutes=2, seconds=30),
        session_arn=base.session(),
        error=(
            "AccessDenied",
            f"User: {base.session()} is not authorized to perform: ecr:GetAuthorizationToken on resource: * "
            "because no identity-based policy allows the ecr:GetAuthorizationToken action",
        ),
        request={"registryIds": [ACCOUNT]},
    )


def ecr_denied(emu):
    """The execution role lacks the ECR pull permissions."""
    b = Base(emu, "ecr-denied")
    only_logs = [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": b.arn("logs")}]
    b.roles(exec_statements=only_logs)
    b.logs_ecr()
    b.run()
    b.stopped(ecr_denied_reason(b))
    b.trail(ecr_denied_event(b))
    return b.facts()


def log_group_missing(emu):
    """The awslogs group does not exist and the task definition does not ask ECS to create it."""
    b = Base(emu, "no-log-group")
    b.roles()
    b.logs_ecr(log_group=False)
    b.run()
    b.stopped(
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
        "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not "
        "exist. : exit status 1"
    )
    return b.facts()


def secret_other_region(emu):
    """The task definition points at a secret ARN in us-west-2; the secret lives in us-east-1."""
    b = Base(emu, "secret-region")
    secret = emu.client("secretsmanager").create_secret(Name="why/db-password", SecretString="not-read-by-the-tool")
    wrong_arn = secret["ARN"].replace(f":{REGION}:", ":us-west-2:")
    b.secrets = [("DB_PASSWORD", wrong_arn)]
    b.roles(
        exec_statements=b.full_exec_statements(
            [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": wrong_arn}]
        )
    )
    b.logs_ecr()
    b.run()
    b.stopped(
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
        "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret "
        f"{wrong_arn} from secrets manager: ResourceNotFoundException: Secrets Manager can't find the specified "
        "secret. status code: 400, request id: 9d2c1f4e-6b0a-4c7e-8a1d-5f3e2b7c9a01"
    )
    return b.facts(secret_arn=secret["ARN"], referenced_arn=wrong_arn)


def kms_key_policy(emu):
    """The secret is encrypted with a customer managed key whose policy names neither the execution role nor
    the account (so IAM policies cannot grant it)."""
    b = Base(emu, "kms-policy")
    kms = emu.client("kms")
    admin = f"arn:aws:iam::{ACCOUNT}:role/why-key-admin"
    key_policy = {
        "Version": "2012-10-17",
        "Id": "key-admins-only",
        "Statement": [
            {"Sid": "KeyAdministrators", "Effect": "Allow", "Principal": {"AWS": admin}, "Action": "kms:*",
             "Resource": "*"}
        ],
    }
    key = kms.create_key(Policy=json.dumps(key_policy), BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]
    secret = emu.client("secretsmanager").create_secret(
        Name="why/api-token", SecretString="not-read-by-the-tool", KmsKeyId=key["Arn"]
    )
    b.secrets = [("API_TOKEN", secret["ARN"])]
    b.roles(
        exec_statements=b.full_exec_statements(
            [
                {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret["ARN"]},
                {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"]},
            ]
        )
    )
    b.logs_ecr()
    b.run()
    b.stopped(
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
        "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret "
        f"{secret['ARN']} from secrets manager: AccessDeniedException: Access to KMS is not allowed status code: "
        "400, request id: 0c8e7d6f-1a2b-4c3d-9e8f-7a6b5c4d3e2f"
    )
    b.trail(
        cloudtrail_record(
            "Decrypt",
            "kms.amazonaws.com",
            b.now - timedelta(minutes=2, seconds=20),
            session_arn=b.session(),
            error=(
                "AccessDenied",
                f"User: {b.session()} is not authorized to perform: kms:Decrypt on resource: {key['Arn']} because "
                "no resource-based policy allows the kms:Decrypt action",
            ),
            request={"encryptionContext": {"SecretARN": secret["ARN"]}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
        )
    )
    return b.facts(key_arn=key["Arn"], secret_arn=secret["ARN"])


EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def trust_policy(emu):
    """The execution role trusts EC2, not ECS tasks."""
    b = Base(emu, "trust")
    b.roles(exec_trust=EC2_TRUST)
    b.logs_ecr()
    b.run()
    b.stopped(
        f"ECS was unable to assume the role '{b.arn('exec')}' that was provided for this task. Please verify that "
        "the role being passed has the proper trust relationship and permissions and that your IAM user has "
        "permissions to pass this role."
    )
    return b.facts()


def expired(emu):
    """The task stopped long ago: DescribeTasks answers MISSING. CloudTrail still has the RunTask call (with the
    task in its response) and the execution role's denied call; the on-call engineer also kept the EventBridge
    task-state event."""
    b = Base(emu, "expired")
    only_logs = [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": b.arn("logs")}]
    b.roles(exec_statements=only_logs)
    b.logs_ecr()
    b.run()
    b.now = b.now - timedelta(hours=3)
    reason = ecr_denied_reason(b)
    b.stopped(reason, expired=True)
    run_task = cloudtrail_record(
        "RunTask",
        "ecs.amazonaws.com",
        b.now - timedelta(minutes=3),
        user_arn=f"arn:aws:iam::{ACCOUNT}:user/deployer",
        request={"cluster": b.cluster, "taskDefinition": b.task_definition_arn, "count": 1, "launchType": "FARGATE"},
        response={
            "tasks": [
                {
                    "taskArn": b.task_arn,
                    "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{b.cluster}",
                    "taskDefinitionArn": b.task_definition_arn,
                    "lastStatus": "PROVISIONING",
                    "desiredStatus": "RUNNING",
                    "launchType": "FARGATE",
                    "group": f"family:why-{b.name}",
                    "containers": [{"name": "app", "image": b.image, "lastStatus": "PENDING"}],
                }
            ],
            "failures": [],
        },
    )
    b.trail(run_task, ecr_denied_event(b))
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": ACCOUNT,
        "time": iso(b.now - timedelta(minutes=2)),
        "region": REGION,
        "resources": [b.task_arn],
        "detail": {
            "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{b.cluster}",
            "containers": [{"name": "app", "image": b.image, "lastStatus": "STOPPED", "taskArn": b.task_arn}],
            "createdAt": iso(b.now - timedelta(minutes=3)),
            "desiredStatus": "STOPPED",
            "lastStatus": "STOPPED",
            "launchType": "FARGATE",
            "stopCode": "TaskFailedToStart",
            "stoppedAt": iso(b.now - timedelta(minutes=2)),
            "stoppedReason": reason,
            "taskArn": b.task_arn,
            "taskDefinitionArn": b.task_definition_arn,
        },
    }
    return b.facts(task_event=event, stopped_at=iso(b.now - timedelta(minutes=2)))


def healthy(emu):
    """Everything is in order and the task runs: the tool must not raise an alarm."""
    b = Base(emu, "healthy")
    secret = emu.client("secretsmanager").create_secret(Name="why/healthy-token", SecretString="not-read")
    b.secrets = [("TOKEN", secret["ARN"])]
    b.roles(
        exec_statements=b.full_exec_statements(
            [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret["ARN"]}]
        ),
        managed=True,
    )
    b.logs_ecr()
    b.run()
    b.emu.fixtures.merge(
        {
            "tasks": {
                b.task_arn: {
                    "lastStatus": "RUNNING",
                    "desiredStatus": "RUNNING",
                    "startedAt": iso(b.now - timedelta(minutes=5)),
                    "containers": {"app": {"lastStatus": "RUNNING"}},
                }
            }
        }
    )
    return b.facts()


def service(emu):
    """Service `web`: its last tasks failed to pull (ECR permissions); its events say ECS could not assume the task
    role (which trusts EC2, not ECS tasks), could not place a task, and the deployment failed."""
    b = Base(emu, "service")
    only_logs = [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": b.arn("logs")}]
    b.roles(exec_statements=only_logs, app_trust=EC2_TRUST)
    b.logs_ecr()
    b.run()
    first = b.task_arn
    b.stopped(ecr_denied_reason(b))
    b.run()
    b.stopped(ecr_denied_reason(b))
    b.trail(ecr_denied_event(b))
    ecs = b.ecs
    ecs.create_service(cluster=b.cluster, serviceName="web", taskDefinition=b.task_definition_arn, desiredCount=1,
                       launchType="FARGATE")
    role = b.arn("app")
    messages = [
        (40, f"(service web) failed to launch a task with (error ECS was unable to assume the role '{role}' that was "
             "provided for this task. Please verify that the role being passed has the proper trust relationship "
             "and permissions and that your IAM user has permissions to pass this role.)."),
        (30, f"(service web) failed to launch a task with (error ECS was unable to assume the role '{role}' that was "
             "provided for this task. Please verify that the role being passed has the proper trust relationship "
             "and permissions and that your IAM user has permissions to pass this role.)."),
        (20, "(service web) was unable to place a task because no container instance met all of its requirements. "
             "Reason: No Container Instances were found in your cluster."),
        (10, "(service web) (deployment ecs-svc/1234567890123456789) deployment failed: tasks failed to start."),
    ]
    events = [
        {"id": str(uuid.uuid4()), "createdAt": iso(b.now - timedelta(minutes=m)), "message": text}
        for m, text in messages
    ]
    b.emu.fixtures.merge({"stopped_tasks": {"web": [b.task_arn, first]}, "service_events": {"web": events}})
    return b.facts(service="web", stopped_tasks=[b.task_arn, first])


SCENARIOS = {
    "ecr-denied": ecr_denied,
    "log-group-missing": log_group_missing,
    "secret-other-region": secret_other_region,
    "kms-key-policy": kms_key_policy,
    "trust-policy": trust_policy,
    "expired": expired,
    "healthy": healthy,
    "service": service,
}

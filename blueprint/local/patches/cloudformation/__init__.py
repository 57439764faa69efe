"""The CloudFormation engine of the local AWS: where moto's CloudFormation falls short, and the engine that
takes over executing change sets and deleting stacks. The patches are the `@patch` functions below;
the modules hold what they install.

  review      DescribeChangeSet's Replacement, Scope and Details (blueprint.cfn.diff); a change set's template
  creation    CreateChangeSet: RollbackConfiguration and OnStackFailure kept; status over time
  gates       where requests enter the engine: one execution per change set, busy stacks refused, the lock
  operation   what operations share: the lock, events and statuses, the scheduler, deletion by DeletionPolicy
  executing   ExecuteChangeSet: resources in order, rollback triggers, cleanup, rollback
  triggers    rollback triggers: the stack's configuration, the alarms' states
  clock       the timing model (blueprint.local.timing), scaled waits, background threads
  durations   how long each resource type takes in AWS (sources: docs/local-timing.md)
  resources   dependency order, updates moto cannot make, placeholders for unknown types
  faults      Blueprint::Test::Fails, a resource that fails on purpose
"""
from __future__ import annotations

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses

from blueprint.local.patches.base import add_model, patch, wrap
from blueprint.local.patches.cloudformation import creation, faults, gates, resources, review


@patch
def change_set_review_details() -> None:
    """moto's DescribeChangeSet gives only Action, LogicalResourceId and ResourceType: no Replacement, Scope,
    Details or PhysicalResourceId, even with IncludePropertyValues. This patch takes each Modify's changed
    top-level properties from blueprint.cfn.diff (the offline plan's diff, whose recreation comes from
    cfn-lint's provider schemas: a create-only property makes RequiresRecreation Always and Replacement
    True; a type without a schema gives Conditionally/Conditional) and shapes them as AWS's Details
    (Target.Attribute Properties or Tags, Name, RequiresRecreation, Evaluation Static, ChangeSource
    DirectModification), with BeforeValue/AfterValue (template values; intrinsic functions as JSON) and
    Before/AfterContext only with IncludePropertyValues. A change set still being created (the timing
    model) shows no Changes, as in AWS."""
    wrap(cfn_models.ChangeSet, "diff", review.make_diff)
    wrap(cfn_responses.CloudFormationResponse, "describe_change_set", lambda _moto: review.describe_change_set)


@patch
def change_set_template() -> None:
    """moto's GetTemplate ignores ChangeSetName: it answers the stack's current template, so the template a
    change set would apply (what `deploy` checks against the reviewed one) cannot be read. This patch
    answers the change set's own template, as submitted (AWS's TemplateStage Original), when one is named."""
    wrap(cfn_responses.CloudFormationResponse, "get_template", review.make_get_template)


@patch
def change_set_creation() -> None:
    """moto's CreateChangeSet drops RollbackConfiguration (RollbackTriggers, MonitoringTimeInMinutes) and
    OnStackFailure: DescribeChangeSet does not show them and nothing applies them. It is also
    CREATE_COMPLETE at once, where AWS takes seconds. This patch validates them as AWS does (at most 5
    triggers of type AWS::CloudWatch::Alarm or CompositeAlarm, 0 to 180 minutes, OnStackFailure DELETE only
    on a CREATE) and keeps them with the change set, for the engine to apply when it executes; under the
    timing model the change set goes CREATE_PENDING, CREATE_IN_PROGRESS, then CREATE_COMPLETE (or FAILED).
    Its wrapper also refuses an UPDATE change set of a stack that takes no update now (stack_busy_refusal).
    moto refuses an UPDATE change set of the stack's own template and parameters ("No updates are to be
    performed.", HTTP 400), where AWS creates it and fails it: Status FAILED, "The submitted information
    didn't contain changes. Submit different information to create a change set." (what `aws
    cloudformation deploy` and every peer expect of a no-op); this wrapper lets moto's backend do that."""
    wrap(cfn_responses.CloudFormationResponse, "create_change_set", creation.make_create_change_set)


@patch
def change_set_execution() -> None:
    """moto's execute_change_set writes only the stack's own events, none per resource; when a resource
    fails it answers with an error (often HTTP 500) and leaves the stack REVIEW_IN_PROGRESS or
    UPDATE_IN_PROGRESS forever, having rolled back nothing; it keeps the empty stack's outputs after a
    success; it ignores rollback triggers; and it is done before the call returns. This patch runs the
    execution on the engine (executing.py): each resource CREATE/UPDATE_IN_PROGRESS then _COMPLETE (or
    _FAILED with the reason) in blueprint.cfn.refs' dependency order, with its physical id and type; the
    stack's own events; the stack's RollbackConfiguration from the change set (validated: a missing alarm
    fails the operation) and its alarms watched during the operation and the monitoring window; the cleanup
    of removed resources; outputs and exports rebuilt. A failure or an alarm in ALARM rolls back as AWS
    does: a first create deletes what it created except DeletionPolicy Retain (RetainExceptOnCreate is
    deleted; ExecuteChangeSet's RetainExceptOnCreate=true deletes Retain too) and ends ROLLBACK_COMPLETE;
    an update puts changed resources back to the previous template, deletes added ones and ends
    UPDATE_ROLLBACK_COMPLETE; DisableRollback or OnStackFailure DO_NOTHING stops at *_FAILED, DELETE
    deletes the stack. Under the timing model the call returns at once and the work runs in a background
    thread, with each type's duration. Every CloudFormation request holds the engine's lock, so reads are
    consistent while a background operation runs."""
    wrap(cfn_models.CloudFormationBackend, "execute_change_set", gates.make_execute_change_set)
    wrap(cfn_responses.CloudFormationResponse, "call_action", gates.make_call_action)


@patch
def change_set_execute_once() -> None:
    """moto executes a change set as often as it is asked: a second ExecuteChangeSet of one that ran
    already (EXECUTE_COMPLETE, EXECUTE_FAILED) applies its template again and succeeds, so two deploys
    of one reviewed change set both "work". CloudFormation refuses it with InvalidChangeSetStatus (HTTP
    400): "ChangeSet [<stack id>] cannot be executed in its current execution status of [...]" (or
    "status of [...]" while the change set is not CREATE_COMPLETE). This patch checks and claims the
    change set (ExecutionStatus EXECUTE_IN_PROGRESS) in one step under a lock before moto executes it,
    and answers that error otherwise (then, for a stack that takes no update now, stack_busy_refusal's
    error); it keeps ExecuteChangeSet's RetainExceptOnCreate and DisableRollback for the engine. An
    unknown change set is left to moto's own answer."""
    wrap(cfn_responses.CloudFormationResponse, "execute_change_set", gates.make_execute_change_set_request)


@patch
def stack_busy_refusal() -> None:
    """moto takes an update of a stack whatever its status: UpdateStack, or a change set of type UPDATE, on
    a stack in UPDATE_IN_PROGRESS (or ROLLBACK_COMPLETE, for a change set) goes through. AWS refuses both
    with ValidationError "Stack:<stack id> is in <status> state and can not be updated." while an
    operation works on the stack (any *_IN_PROGRESS but REVIEW_IN_PROGRESS) and after ROLLBACK_COMPLETE,
    ROLLBACK_FAILED, DELETE_FAILED and UPDATE_ROLLBACK_FAILED, before it looks at the template. This patch
    refuses UpdateStack so (and, through the same check, CreateChangeSet in change_set_creation's wrapper,
    ExecuteChangeSet in change_set_execute_once's claim; DeleteStack of a busy stack is refused by
    stack_deletion with AWS's "Stack [<stack id>] cannot be deleted while in status <status>")."""
    wrap(cfn_responses.CloudFormationResponse, "update_stack", gates.make_update_stack_request)


@patch
def change_set_dependency_order() -> None:
    """Executing a change set, moto creates the added resources in template order, ignoring DependsOn:
    an AWS::ApiGateway::Deployment listed before its Methods fails ("The REST API doesn't contain any
    methods"). This patch orders the added (and modified) resources by DependsOn, Ref, GetAtt and Sub."""
    wrap(parsing.ResourceMap, "build_resource_diff", resources.make_build_resource_diff)


@patch
def keep_resources_moto_cannot_update() -> None:
    """When a resource type has no update_from_cloudformation_json in moto (e.g. AWS::ApiGateway::RestApi,
    Deployment, AWS::EC2::VPCEndpoint, AWS::Logs::LogGroup), moto stores None for it after a Modify: the
    stack loses the resource and every later Ref to it resolves to None. This patch keeps the existing
    resource (its properties are not changed: see docs/local-target.md) and logs that in the server log."""
    wrap(parsing, "parse_and_update_resource", resources.make_parse_and_update_resource)


@patch
def stack_deletion() -> None:
    """moto's delete_stack deletes resources in no particular order with no per-resource events, keeps only
    a literal DeletionPolicy Retain (RetainExceptOnCreate resources are deleted), and when a resource cannot
    be deleted it raises after it has already removed the stack from its list: the call fails and the stack
    disappears while its remaining resources live on. This patch deletes on the engine: resources in
    reverse dependency order, each DELETE_IN_PROGRESS then DELETE_COMPLETE (or DELETE_FAILED with the
    reason), DELETE_SKIPPED for Retain and RetainExceptOnCreate (Snapshot deletes, without a snapshot); a
    failure leaves the stack DELETE_FAILED holding what is left, and a later DeleteStack retries. Under the
    timing model the call returns at once and the deletion runs in the background."""
    wrap(cfn_models.CloudFormationBackend, "delete_stack", gates.make_delete_stack)


@patch
def unsupported_types_visible() -> None:
    """For a resource type moto has no model for (e.g. AWS::WAFv2::WebACL, AWS::CloudWatch::Alarm,
    AWS::Lambda::EventInvokeConfig), moto logs a warning and skips it: the stack says CREATE_COMPLETE,
    the resource is missing from describe_stack_resources, and every Ref/GetAtt to it resolves to None.
    This patch creates a placeholder instead: the resource is listed with the physical id
    `not-emulated-<LogicalId>` (its Ref; GetAtt gives `not-emulated-<LogicalId>.<Attribute>`), so
    checks that expect the real resource fail visibly instead of passing on nothing, and the server
    log names it."""
    placeholder = add_model(resources.NotEmulated)
    wrap(parsing, "resource_class_from_type", resources.make_resource_class_from_type(placeholder))


@patch
def failure_injection() -> None:
    """moto gives a test no way to make one resource of a stack operation fail where it wants it to (a
    create after the table exists, an update, a deletion). This patch adds the type Blueprint::Test::Fails
    (faults.py), only on the local AWS: it fails its Create, Update or Delete as its FailOn property says,
    with its Reason, so rollbacks can be tested on the rendered templates."""
    add_model(faults.Fails)

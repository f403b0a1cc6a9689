// asiokafka::Admin: the coroutine admin client (topics, partitions, configs, groups, offsets,
// records, transactions, ACLs, SCRAM credentials, quotas, the cluster). See docs/admin.md.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>

#include "asiokafka/admin/cluster.hpp"
#include "asiokafka/admin/common.hpp"
#include "asiokafka/admin/configs.hpp"
#include "asiokafka/admin/topics.hpp"
// (family A: configs, quotas, SCRAM credentials headers)
#include "asiokafka/admin/quotas.hpp"
#include "asiokafka/admin/scram.hpp"

// (family B: groups, transactions headers)
#include "asiokafka/admin/groups.hpp"
#include "asiokafka/admin/transactions.hpp"

// (family C: records, ACLs, brokers headers)
#include "asiokafka/admin/acls.hpp"
#include "asiokafka/admin/brokers.hpp"
#include "asiokafka/admin/records.hpp"

#include "asiokafka/admin_config.hpp"
#include "asiokafka/async.hpp"

namespace asiokafka {

namespace detail {
struct admin_state;
std::shared_ptr<admin_state> make_admin(boost::asio::any_io_executor executor, AdminConfig config);
void admin_destroyed(admin_state& state) noexcept;

/// The operations, compiled in the library (src/admin/); each runs on the admin's executor
/// and writes its result into `out`.
boost::asio::awaitable<op_error> admin_start(std::shared_ptr<admin_state> s);
boost::asio::awaitable<op_error> admin_close(std::shared_ptr<admin_state> s);

// ---- topics (src/admin/topics.cpp) ----
boost::asio::awaitable<op_error> admin_create_topics(std::shared_ptr<admin_state> s,
                                                    std::vector<CreateTopicResult>& out,
                                                    std::vector<NewTopic> topics, CreateTopicsOptions options);
boost::asio::awaitable<op_error> admin_delete_topics(std::shared_ptr<admin_state> s,
                                                    std::vector<DeleteTopicResult>& out,
                                                    std::vector<std::string> names, DeleteTopicsOptions options);
boost::asio::awaitable<op_error> admin_delete_topics_by_id(std::shared_ptr<admin_state> s,
                                                          std::vector<DeleteTopicResult>& out,
                                                          std::vector<protocol::uuid> ids,
                                                          DeleteTopicsOptions options);
boost::asio::awaitable<op_error> admin_list_topics(std::shared_ptr<admin_state> s,
                                                  std::vector<TopicListing>& out,
                                                  ListTopicsOptions options);
boost::asio::awaitable<op_error> admin_describe_topics(std::shared_ptr<admin_state> s,
                                                      std::vector<TopicDescription>& out,
                                                      std::vector<std::string> names, DescribeTopicsOptions options);
boost::asio::awaitable<op_error> admin_create_partitions(std::shared_ptr<admin_state> s,
                                                        std::vector<CreatePartitionsResult>& out,
                                                        std::vector<NewPartitions> partitions,
                                                        CreatePartitionsOptions options);

// ---- cluster (src/admin/cluster.cpp) ----
boost::asio::awaitable<op_error> admin_find_coordinator(std::shared_ptr<admin_state> s, BrokerMetadata& out,
                                                       CoordinatorType type, std::string key,
                                                       FindCoordinatorOptions options);
boost::asio::awaitable<op_error> admin_describe_cluster(std::shared_ptr<admin_state> s,
                                                       ClusterDescription& out,
                                                       DescribeClusterOptions options);


// ---- family A: configs, quotas, SCRAM credentials (src/admin/configs.cpp, quotas.cpp, scram.cpp) ----
boost::asio::awaitable<op_error> admin_describe_configs(std::shared_ptr<admin_state> s,
                                                       std::vector<ConfigDescription>& out,
                                                       std::vector<ConfigResource> resources,
                                                       DescribeConfigsOptions options);
boost::asio::awaitable<op_error> admin_incremental_alter_configs(std::shared_ptr<admin_state> s,
                                                                std::vector<AlterConfigsResult>& out,
                                                                std::vector<ConfigAlteration> alterations,
                                                                IncrementalAlterConfigsOptions options);
boost::asio::awaitable<op_error> admin_describe_client_quotas(std::shared_ptr<admin_state> s,
                                                             ClientQuotasDescription& out, ClientQuotaFilter filter,
                                                             DescribeClientQuotasOptions options);
boost::asio::awaitable<op_error> admin_alter_client_quotas(std::shared_ptr<admin_state> s,
                                                          std::vector<AlterClientQuotasResult>& out,
                                                          std::vector<ClientQuotaAlteration> alterations,
                                                          AlterClientQuotasOptions options);
boost::asio::awaitable<op_error> admin_describe_user_scram_credentials(
    std::shared_ptr<admin_state> s, std::vector<UserScramCredentialsDescription>& out,
    std::vector<std::string> users, DescribeUserScramCredentialsOptions options);
boost::asio::awaitable<op_error> admin_alter_user_scram_credentials(
    std::shared_ptr<admin_state> s, std::vector<AlterUserScramCredentialsResult>& out,
    std::vector<UserScramCredentialAlteration> alterations, AlterUserScramCredentialsOptions options);

// ---- family B: groups and transactions (src/admin/groups.cpp, transactions.cpp) ----
boost::asio::awaitable<op_error> admin_list_groups(std::shared_ptr<admin_state> s, std::vector<GroupListing>& out,
                                                  ListGroupsOptions options);
boost::asio::awaitable<op_error> admin_describe_groups(std::shared_ptr<admin_state> s,
                                                      std::vector<GroupDescription>& out,
                                                      std::vector<std::string> group_ids,
                                                      DescribeGroupsOptions options);
boost::asio::awaitable<op_error> admin_delete_groups(std::shared_ptr<admin_state> s,
                                                    std::vector<DeleteGroupResult>& out,
                                                    std::vector<std::string> group_ids, DeleteGroupsOptions options);
boost::asio::awaitable<op_error> admin_list_consumer_group_offsets(std::shared_ptr<admin_state> s,
                                                                  std::vector<ListedGroupOffset>& out,
                                                                  std::string group_id,
                                                                  std::vector<TopicPartition> partitions,
                                                                  ListConsumerGroupOffsetsOptions options);
boost::asio::awaitable<op_error> admin_alter_consumer_group_offsets(std::shared_ptr<admin_state> s,
                                                                   std::vector<GroupOffsetResult>& out,
                                                                   std::string group_id,
                                                                   std::vector<NewGroupOffset> offsets,
                                                                   AlterConsumerGroupOffsetsOptions options);
boost::asio::awaitable<op_error> admin_delete_consumer_group_offsets(std::shared_ptr<admin_state> s,
                                                                    std::vector<GroupOffsetResult>& out,
                                                                    std::string group_id,
                                                                    std::vector<TopicPartition> partitions,
                                                                    DeleteConsumerGroupOffsetsOptions options);
boost::asio::awaitable<op_error> admin_remove_members_from_consumer_group(std::shared_ptr<admin_state> s,
                                                                         std::vector<RemoveMemberResult>& out,
                                                                         std::string group_id,
                                                                         std::vector<std::string> group_instance_ids,
                                                                         bool all_members, RemoveMembersOptions options);
boost::asio::awaitable<op_error> admin_list_transactions(std::shared_ptr<admin_state> s,
                                                        std::vector<TransactionListing>& out,
                                                        std::vector<std::int64_t> producer_ids,
                                                        ListTransactionsOptions options);
boost::asio::awaitable<op_error> admin_describe_transactions(std::shared_ptr<admin_state> s,
                                                            std::vector<TransactionDescription>& out,
                                                            std::vector<std::string> transactional_ids,
                                                            DescribeTransactionsOptions options);
boost::asio::awaitable<op_error> admin_describe_producers(std::shared_ptr<admin_state> s,
                                                         std::vector<PartitionProducers>& out,
                                                         std::vector<TopicPartition> partitions,
                                                         DescribeProducersOptions options);
boost::asio::awaitable<op_error> admin_abort_transaction(std::shared_ptr<admin_state> s, AbortTransactionResult& out,
                                                        AbortTransactionSpec spec, AbortTransactionOptions options);
boost::asio::awaitable<op_error> admin_fence_producers(std::shared_ptr<admin_state> s,
                                                      std::vector<FenceProducerResult>& out,
                                                      std::vector<std::string> transactional_ids,
                                                      FenceProducersOptions options);

// ---- family C: records, ACLs, brokers (src/admin/records.cpp, acls.cpp, brokers.cpp) ----
boost::asio::awaitable<op_error> admin_list_offsets(std::shared_ptr<admin_state> s, std::vector<ListOffsetsResult>& out,
                                                   std::vector<std::pair<TopicPartition, OffsetSpec>> partitions,
                                                   ListOffsetsOptions options);
boost::asio::awaitable<op_error> admin_delete_records(std::shared_ptr<admin_state> s,
                                                     std::vector<DeleteRecordsResult>& out,
                                                     std::vector<std::pair<TopicPartition, std::int64_t>> before,
                                                     DeleteRecordsOptions options);
boost::asio::awaitable<op_error> admin_elect_leaders(std::shared_ptr<admin_state> s,
                                                    std::vector<ElectLeadersResult>& out, ElectionType type,
                                                    std::optional<std::vector<TopicPartition>> partitions,
                                                    ElectLeadersOptions options);
boost::asio::awaitable<op_error> admin_create_acls(std::shared_ptr<admin_state> s, std::vector<CreateAclResult>& out,
                                                  std::vector<AclBinding> bindings, CreateAclsOptions options);
boost::asio::awaitable<op_error> admin_describe_acls(std::shared_ptr<admin_state> s, std::vector<AclBinding>& out,
                                                    AclBindingFilter filter, DescribeAclsOptions options);
boost::asio::awaitable<op_error> admin_delete_acls(std::shared_ptr<admin_state> s, std::vector<DeleteAclsResult>& out,
                                                  std::vector<AclBindingFilter> filters, DeleteAclsOptions options);
boost::asio::awaitable<op_error> admin_describe_log_dirs(std::shared_ptr<admin_state> s,
                                                        std::vector<BrokerLogDirs>& out,
                                                        std::vector<std::int32_t> broker_ids,
                                                        DescribeLogDirsOptions options);
boost::asio::awaitable<op_error> admin_describe_api_versions(std::shared_ptr<admin_state> s,
                                                            std::vector<BrokerApiVersions>& out,
                                                            DescribeApiVersionsOptions options);
boost::asio::awaitable<op_error> admin_describe_features(std::shared_ptr<admin_state> s, FeatureMetadata& out,
                                                        DescribeFeaturesOptions options);
boost::asio::awaitable<op_error> admin_update_features(std::shared_ptr<admin_state> s,
                                                      std::vector<UpdateFeatureResult>& out,
                                                      std::map<std::string, FeatureUpdate> updates,
                                                      UpdateFeaturesOptions options);

}  // namespace detail

/// The admin client. Runs on the executor given at construction (use a strand with a
/// multi-threaded io_context). Every operation is an Asio initiating function: `co_await`
/// by default (failures thrown as asiokafka::error), or any completion token with the
/// signature `void(error_code, Result)`: as_tuple, callbacks, use_future, deferred.
/// Arguments are copied at initiation, so temporaries may be passed; calls may be made from
/// any thread. Cancelling an operation (its handler's cancellation slot) ends it with
/// operation_aborted; what was already sent may still take effect at the broker.
///
/// Results are per item (docs/admin.md): an operation that reached the cluster completes with
/// one result per topic, group, resource, ..., each carrying its own error; it fails as a
/// whole only when it could not be carried out (no broker answered within the timeout:
/// client_errc::timeout; the admin not started or closed: client_errc::client_closed).
class Admin {
 public:
  using executor_type = boost::asio::any_io_executor;

  /// Validates `config` (throws asiokafka::error with client_errc::invalid_config naming the
  /// option). Nothing connects before start().
  Admin(executor_type executor, AdminConfig config);
  /// Without close(): fails what is in flight with client_closed and closes the connections.
  ~Admin();
  Admin(Admin&&) noexcept = default;
  Admin& operator=(Admin&& other) noexcept;
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  const executor_type& get_executor() const noexcept { return executor_; }

  /// Connects to a bootstrap broker (client_errc::connection_failed naming every address
  /// tried, or the authentication / TLS error). Operations before start() fail with
  /// client_errc::client_closed.
  template <class Token = default_token_t>
  auto start(Token&& token = {}) {
    return run_void(std::forward<Token>(token), &detail::admin_start);
  }
  /// Fails what is in flight with client_errc::client_closed and closes every connection.
  /// Idempotent.
  template <class Token = default_token_t>
  auto close(Token&& token = {}) {
    return run_void(std::forward<Token>(token), &detail::admin_close);
  }

  // ---- topics ----

  /// Creates topics (CreateTopics, on the controller). One result per topic, in the order
  /// given, each with the broker's error when it failed: TOPIC_ALREADY_EXISTS,
  /// INVALID_TOPIC_EXCEPTION (a bad name), INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR,
  /// INVALID_CONFIG (an unknown config name), POLICY_VIOLATION, TOPIC_AUTHORIZATION_FAILED.
  template <class Token = default_token_t>
  auto create_topics(std::vector<NewTopic> topics, CreateTopicsOptions options = {}, Token&& token = {}) {
    return run<std::vector<CreateTopicResult>>(std::forward<Token>(token), &detail::admin_create_topics,
                                               std::move(topics), options);
  }
  /// Deletes topics by name (DeleteTopics, on the controller). One result per name;
  /// UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist.
  template <class Token = default_token_t>
  auto delete_topics(std::vector<std::string> names, DeleteTopicsOptions options = {}, Token&& token = {}) {
    return run<std::vector<DeleteTopicResult>>(std::forward<Token>(token), &detail::admin_delete_topics,
                                               std::move(names), options);
  }
  /// Deletes topics by id (DeleteTopics v6+, Kafka 2.8+); UNKNOWN_TOPIC_ID for an unknown id.
  template <class Token = default_token_t>
  auto delete_topics(std::vector<protocol::uuid> ids, DeleteTopicsOptions options = {}, Token&& token = {}) {
    return run<std::vector<DeleteTopicResult>>(std::forward<Token>(token), &detail::admin_delete_topics_by_id,
                                               std::move(ids), options);
  }
  /// Every topic of the cluster (Metadata for all topics), sorted by name; internal topics
  /// only with include_internal.
  template <class Token = default_token_t>
  auto list_topics(ListTopicsOptions options = {}, Token&& token = {}) {
    return run<std::vector<TopicListing>>(std::forward<Token>(token), &detail::admin_list_topics, options);
  }
  /// Partitions, leaders, replicas, ISR, offline replicas, topic id and (optionally)
  /// authorized operations of each topic named, in the order given. A topic whose leaders are
  /// still being elected (LEADER_NOT_AVAILABLE) is asked for again within the timeout. A topic
  /// the broker does not know is UNKNOWN_TOPIC_OR_PARTITION at once, as with the Java Admin,
  /// even right after create_topics: a KRaft broker learns of a new topic from the controller
  /// a moment after CreateTopics is answered.
  template <class Token = default_token_t>
  auto describe_topics(std::vector<std::string> names, DescribeTopicsOptions options = {}, Token&& token = {}) {
    return run<std::vector<TopicDescription>>(std::forward<Token>(token), &detail::admin_describe_topics,
                                              std::move(names), options);
  }
  /// Raises topics' partition counts (CreatePartitions, on the controller). One result per
  /// topic: INVALID_PARTITIONS for a count not above the current one, UNKNOWN_TOPIC_OR_PARTITION.
  template <class Token = default_token_t>
  auto create_partitions(std::vector<NewPartitions> partitions, CreatePartitionsOptions options = {},
                         Token&& token = {}) {
    return run<std::vector<CreatePartitionsResult>>(std::forward<Token>(token), &detail::admin_create_partitions,
                                                    std::move(partitions), options);
  }

  // ---- cluster ----

  /// Cluster id, controller and brokers (DescribeCluster, KIP-700, Kafka 2.8+).
  template <class Token = default_token_t>
  auto describe_cluster(DescribeClusterOptions options = {}, Token&& token = {}) {
    return run<ClusterDescription>(std::forward<Token>(token), &detail::admin_describe_cluster, options);
  }
  /// The coordinator of a group or transactional id (FindCoordinator, as aiokafka's
  /// find_coordinator), from the cache the other operations share or asked of a broker;
  /// COORDINATOR_NOT_AVAILABLE (e.g. __consumer_offsets still being created) is asked again
  /// within the timeout.
  template <class Token = default_token_t>
  auto find_coordinator(CoordinatorType type, std::string key, FindCoordinatorOptions options = {},
                        Token&& token = {}) {
    return run<BrokerMetadata>(std::forward<Token>(token), &detail::admin_find_coordinator, type, std::move(key),
                               options);
  }

  // ---- family A: configs, quotas, SCRAM credentials ----

  /// The configs of topics, brokers and broker loggers (DescribeConfigs), one result per
  /// resource in the order given. A broker's or a broker logger's resource ("1") is asked of
  /// that broker, the rest (topics, the cluster-wide broker default "") of any broker; one
  /// request per broker, sent concurrently. Item errors: UNKNOWN_TOPIC_OR_PARTITION,
  /// client_errc::invalid_argument for a broker name that is not a node id,
  /// client_errc::no_broker_available for a node id the cluster does not know, or the failure
  /// of that broker's request (e.g. client_errc::timeout) when other brokers answered.
  template <class Token = default_token_t>
  auto describe_configs(std::vector<ConfigResource> resources, DescribeConfigsOptions options = {},
                        Token&& token = {}) {
    return run<std::vector<ConfigDescription>>(std::forward<Token>(token), &detail::admin_describe_configs,
                                               std::move(resources), options);
  }
  /// Sets, deletes, appends to or subtracts from configs (IncrementalAlterConfigs, KIP-339,
  /// Kafka 2.3+), one result per resource in the order given; routed as describe_configs
  /// (KRaft brokers forward topic and cluster-default changes to the controller). Item
  /// errors, with the broker's message naming the config: INVALID_CONFIG (a topic's unknown
  /// config or bad value, an unknown logger or level), INVALID_REQUEST (a broker config's bad
  /// value, a read-only broker config; brokers accept config names they do not know, for
  /// plugins), UNKNOWN_TOPIC_OR_PARTITION, POLICY_VIOLATION, and the client-side errors of
  /// describe_configs; a resource named twice in one call fails with
  /// client_errc::invalid_argument and is not sent. A change shows in describe_configs once
  /// the broker asked has applied the controller's record (a moment later).
  template <class Token = default_token_t>
  auto incremental_alter_configs(std::vector<ConfigAlteration> alterations, IncrementalAlterConfigsOptions options = {},
                                 Token&& token = {}) {
    return run<std::vector<AlterConfigsResult>>(std::forward<Token>(token), &detail::admin_incremental_alter_configs,
                                                std::move(alterations), options);
  }
  /// The client quotas of the entities matching `filter` (DescribeClientQuotas, any broker).
  /// The broker's refusal of the filter is the result's error, naming the filter
  /// (INVALID_REQUEST for a malformed one; Kafka answers UNSUPPORTED_VERSION for an unknown
  /// entity type). A change made just before may take a moment to show: brokers answer from
  /// their copy of the cluster metadata.
  template <class Token = default_token_t>
  auto describe_client_quotas(ClientQuotaFilter filter, DescribeClientQuotasOptions options = {}, Token&& token = {}) {
    return run<ClientQuotasDescription>(std::forward<Token>(token), &detail::admin_describe_client_quotas,
                                        std::move(filter), options);
  }
  /// Sets or removes client quotas (AlterClientQuotas, any broker; KRaft brokers forward to
  /// the controller), one result per entity in the order given. Item errors: INVALID_REQUEST
  /// (an unknown quota key or entity type, a bad value) naming the entity.
  template <class Token = default_token_t>
  auto alter_client_quotas(std::vector<ClientQuotaAlteration> alterations, AlterClientQuotasOptions options = {},
                           Token&& token = {}) {
    return run<std::vector<AlterClientQuotasResult>>(std::forward<Token>(token), &detail::admin_alter_client_quotas,
                                                     std::move(alterations), options);
  }
  /// The SCRAM credentials (mechanisms and iteration counts) of `users`, in the order given,
  /// or of every user that has one when `users` is empty (DescribeUserScramCredentials, any
  /// broker). Item errors: RESOURCE_NOT_FOUND for a user without credentials,
  /// DUPLICATE_RESOURCE for a user named twice.
  template <class Token = default_token_t>
  auto describe_user_scram_credentials(std::vector<std::string> users = {},
                                       DescribeUserScramCredentialsOptions options = {}, Token&& token = {}) {
    return run<std::vector<UserScramCredentialsDescription>>(
        std::forward<Token>(token), &detail::admin_describe_user_scram_credentials, std::move(users), options);
  }
  /// Creates, replaces or deletes users' SCRAM credentials (AlterUserScramCredentials, any
  /// broker; KRaft brokers forward to the controller), one result per alteration in the
  /// order given. An upsertion's salt comes from OpenSSL's RAND_bytes and its salted password
  /// is derived here (PBKDF2-HMAC, RFC 5802 Hi()); the password never leaves the client. Item
  /// errors: UNACCEPTABLE_CREDENTIAL (iterations out of range: 4096..16384; an empty user
  /// name), RESOURCE_NOT_FOUND (deleting a credential that does not exist), DUPLICATE_RESOURCE
  /// (one user altered twice in one request: a KRaft controller takes one alteration per user
  /// and request, whatever the mechanisms), UNSUPPORTED_SASL_MECHANISM;
  /// client_errc::invalid_argument for ScramMechanism::unknown or iterations below 1. The
  /// broker answers per user: one bad alteration fails all of that user's alterations, and a
  /// user with an alteration refused here is not sent. Hi() runs on the admin's executor, its
  /// cost growing with the iterations.
  template <class Token = default_token_t>
  auto alter_user_scram_credentials(std::vector<UserScramCredentialAlteration> alterations,
                                    AlterUserScramCredentialsOptions options = {}, Token&& token = {}) {
    return run<std::vector<AlterUserScramCredentialsResult>>(
        std::forward<Token>(token), &detail::admin_alter_user_scram_credentials, std::move(alterations), options);
  }

  // ---- family B: groups and transactions ----

  /// Every group of the cluster: ListGroups sent to every broker (each lists the groups it
  /// coordinates), merged and sorted by id. Filters by state (KIP-518) and type (KIP-848) are
  /// applied by the brokers; a broker too old for a filter fails the operation with
  /// client_errc::unsupported_version rather than ignoring it. A broker that cannot be asked
  /// within the timeout fails the operation (a partial list would hide groups).
  template <class Token = default_token_t>
  auto list_groups(ListGroupsOptions options = {}, Token&& token = {}) {
    return run<std::vector<GroupListing>>(std::forward<Token>(token), &detail::admin_list_groups, options);
  }
  /// Describes groups, each on its coordinator (groups sharing one are asked together):
  /// ConsumerGroupDescribe first (KIP-848 consumer groups), then DescribeGroups for the groups
  /// it does not know (classic groups), as the Java Admin. One result per id, in the order
  /// given: GROUP_ID_NOT_FOUND (state dead, no members) for a group that does not exist,
  /// GROUP_AUTHORIZATION_FAILED, client_errc::invalid_argument for an empty id.
  template <class Token = default_token_t>
  auto describe_groups(std::vector<std::string> group_ids, DescribeGroupsOptions options = {}, Token&& token = {}) {
    return run<std::vector<GroupDescription>>(std::forward<Token>(token), &detail::admin_describe_groups,
                                              std::move(group_ids), options);
  }
  /// Deletes groups and their committed offsets (DeleteGroups, on each coordinator). One
  /// result per id: NON_EMPTY_GROUP while the group has members, GROUP_ID_NOT_FOUND.
  template <class Token = default_token_t>
  auto delete_groups(std::vector<std::string> group_ids, DeleteGroupsOptions options = {}, Token&& token = {}) {
    return run<std::vector<DeleteGroupResult>>(std::forward<Token>(token), &detail::admin_delete_groups,
                                               std::move(group_ids), options);
  }
  /// A group's committed offsets (OffsetFetch, on its coordinator): for `partitions`, in the
  /// order given (offset -1 where nothing is committed), or, when empty, for every partition
  /// the group has committed, by (topic, partition). A group-level error (e.g.
  /// GROUP_AUTHORIZATION_FAILED) fails the operation, naming the group.
  template <class Token = default_token_t>
  auto list_consumer_group_offsets(std::string group_id, std::vector<TopicPartition> partitions = {},
                                   ListConsumerGroupOffsetsOptions options = {}, Token&& token = {}) {
    return run<std::vector<ListedGroupOffset>>(std::forward<Token>(token), &detail::admin_list_consumer_group_offsets,
                                               std::move(group_id), std::move(partitions), options);
  }
  /// Commits offsets for a group that has no active member (OffsetCommit with generation -1
  /// and no member id, on its coordinator). One result per partition, in the order given:
  /// UNKNOWN_MEMBER_ID while the group has members (classic and KIP-848 groups),
  /// UNKNOWN_TOPIC_OR_PARTITION, client_errc::invalid_argument for a negative offset.
  template <class Token = default_token_t>
  auto alter_consumer_group_offsets(std::string group_id, std::vector<NewGroupOffset> offsets,
                                    AlterConsumerGroupOffsetsOptions options = {}, Token&& token = {}) {
    return run<std::vector<GroupOffsetResult>>(std::forward<Token>(token),
                                               &detail::admin_alter_consumer_group_offsets, std::move(group_id),
                                               std::move(offsets), options);
  }
  /// Deletes a group's committed offsets for partitions (OffsetDelete, Kafka 2.4+, on its
  /// coordinator). One result per partition: GROUP_SUBSCRIBED_TO_TOPIC while an active member
  /// subscribes to the topic. A group-level error (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP...)
  /// fails the operation, naming the group.
  template <class Token = default_token_t>
  auto delete_consumer_group_offsets(std::string group_id, std::vector<TopicPartition> partitions,
                                     DeleteConsumerGroupOffsetsOptions options = {}, Token&& token = {}) {
    return run<std::vector<GroupOffsetResult>>(std::forward<Token>(token),
                                               &detail::admin_delete_consumer_group_offsets, std::move(group_id),
                                               std::move(partitions), options);
  }
  /// Removes static members (KIP-345) by group instance id (LeaveGroup v3+, on the
  /// coordinator). One result per id, in the order given: UNKNOWN_MEMBER_ID for an id the
  /// group does not have. An empty list is refused (client_errc::invalid_argument); see
  /// remove_all_members_from_consumer_group.
  template <class Token = default_token_t>
  auto remove_members_from_consumer_group(std::string group_id, std::vector<std::string> group_instance_ids,
                                          RemoveMembersOptions options = {}, Token&& token = {}) {
    return run<std::vector<RemoveMemberResult>>(std::forward<Token>(token),
                                                &detail::admin_remove_members_from_consumer_group,
                                                std::move(group_id), std::move(group_instance_ids), false, options);
  }
  /// Removes every member of a group, static or dynamic: describes the group, then LeaveGroup
  /// v3+ with each member's id (and instance id). One result per member found.
  template <class Token = default_token_t>
  auto remove_all_members_from_consumer_group(std::string group_id, RemoveMembersOptions options = {},
                                              Token&& token = {}) {
    return run<std::vector<RemoveMemberResult>>(std::forward<Token>(token),
                                                &detail::admin_remove_members_from_consumer_group,
                                                std::move(group_id), std::vector<std::string>(), true, options);
  }

  /// Every transactional id the cluster's transaction coordinators know: ListTransactions sent
  /// to every broker (Kafka 3.0+), merged and sorted by id; filters by state and (v1, Kafka
  /// 3.8+) duration are applied by the brokers. A broker that cannot be asked within the
  /// timeout fails the operation.
  template <class Token = default_token_t>
  auto list_transactions(ListTransactionsOptions options = {}, Token&& token = {}) {
    return run<std::vector<TransactionListing>>(std::forward<Token>(token), &detail::admin_list_transactions,
                                                std::vector<std::int64_t>(), options);
  }
  /// list_transactions, only for these producer ids.
  template <class Token = default_token_t>
  auto list_transactions(std::vector<std::int64_t> producer_ids, ListTransactionsOptions options = {},
                         Token&& token = {}) {
    return run<std::vector<TransactionListing>>(std::forward<Token>(token), &detail::admin_list_transactions,
                                                std::move(producer_ids), options);
  }
  /// Describes transactional ids (DescribeTransactions, Kafka 3.0+), each on its transaction
  /// coordinator. One result per id: TRANSACTIONAL_ID_NOT_FOUND for an unknown id,
  /// TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
  template <class Token = default_token_t>
  auto describe_transactions(std::vector<std::string> transactional_ids, DescribeTransactionsOptions options = {},
                             Token&& token = {}) {
    return run<std::vector<TransactionDescription>>(std::forward<Token>(token), &detail::admin_describe_transactions,
                                                    std::move(transactional_ids), options);
  }
  /// The producers with state on partitions (DescribeProducers, Kafka 3.0+), asked of each
  /// partition's leader (or options.broker_id). One result per partition, in the order given:
  /// UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER (asked again until the timeout).
  template <class Token = default_token_t>
  auto describe_producers(std::vector<TopicPartition> partitions, DescribeProducersOptions options = {},
                          Token&& token = {}) {
    return run<std::vector<PartitionProducers>>(std::forward<Token>(token), &detail::admin_describe_producers,
                                                std::move(partitions), options);
  }
  /// Aborts a hanging transaction on one partition (KIP-664): an abort marker written by the
  /// partition's leader (WriteTxnMarkers; needs CLUSTER_ACTION), so the last stable offset
  /// moves past it. The producer's id, epoch and coordinator epoch come from
  /// describe_producers. Errors: INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED,
  /// CLUSTER_AUTHORIZATION_FAILED.
  template <class Token = default_token_t>
  auto abort_transaction(AbortTransactionSpec spec, AbortTransactionOptions options = {}, Token&& token = {}) {
    return run<AbortTransactionResult>(std::forward<Token>(token), &detail::admin_abort_transaction, std::move(spec),
                                       options);
  }
  /// Fences the producers of transactional ids (the Java Admin's fenceProducers): an
  /// InitProducerId on each id's transaction coordinator bumps its epoch, so a producer still
  /// using the old epoch is refused (PRODUCER_FENCED) and its ongoing transaction is aborted by
  /// the coordinator. While that abort completes the coordinator answers
  /// CONCURRENT_TRANSACTIONS, which is asked again within the timeout. One result per id, in
  /// the order given: TRANSACTIONAL_ID_AUTHORIZATION_FAILED, INVALID_TRANSACTION_TIMEOUT,
  /// client_errc::invalid_argument for an empty id.
  template <class Token = default_token_t>
  auto fence_producers(std::vector<std::string> transactional_ids, FenceProducersOptions options = {},
                       Token&& token = {}) {
    return run<std::vector<FenceProducerResult>>(std::forward<Token>(token), &detail::admin_fence_producers,
                                                 std::move(transactional_ids), options);
  }

  // ---- family C: records, ACLs, brokers ----

  /// Offsets of partitions (ListOffsets, sent to each partition's leader, one request per
  /// leader): the earliest, the latest, the record with the largest timestamp (KIP-734) or
  /// the first at or after a time. One result per partition, in the order given, with offset,
  /// timestamp and leader epoch. Leader moves (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE,
  /// UNKNOWN_LEADER_EPOCH, ...) are retried on the new leader within the timeout; a topic or
  /// partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION, one that still has no
  /// answer at the timeout client_errc::timeout. A partition given twice, or at() with a
  /// negative time: client_errc::invalid_argument.
  template <class Token = default_token_t>
  auto list_offsets(std::vector<std::pair<TopicPartition, OffsetSpec>> partitions, ListOffsetsOptions options = {},
                    Token&& token = {}) {
    return run<std::vector<ListOffsetsResult>>(std::forward<Token>(token), &detail::admin_list_offsets,
                                               std::move(partitions), options);
  }
  /// list_offsets for a std::map<TopicPartition, OffsetSpec> (results in the map's order).
  /// A template so that a braced list picks the vector form.
  template <class Map, class Token = default_token_t>
    requires std::is_same_v<std::remove_cvref_t<Map>, std::map<TopicPartition, OffsetSpec>>
  auto list_offsets(const Map& partitions, ListOffsetsOptions options = {}, Token&& token = {}) {
    std::vector<std::pair<TopicPartition, OffsetSpec>> v(partitions.begin(), partitions.end());
    return list_offsets(std::move(v), options, std::forward<Token>(token));
  }

  /// Deletes the records before an offset (DeleteRecords, to each partition's leader): the
  /// offset becomes the partition's log start (-1: the high watermark, deleting everything).
  /// One result per partition, in the order given, with the new low watermark;
  /// OFFSET_OUT_OF_RANGE for an offset beyond the high watermark, UNKNOWN_TOPIC_OR_PARTITION,
  /// POLICY_VIOLATION (a compacted topic). Leader moves are retried as in list_offsets.
  template <class Token = default_token_t>
  auto delete_records(std::vector<std::pair<TopicPartition, std::int64_t>> before, DeleteRecordsOptions options = {},
                      Token&& token = {}) {
    return run<std::vector<DeleteRecordsResult>>(std::forward<Token>(token), &detail::admin_delete_records,
                                                 std::move(before), options);
  }
  /// delete_records for a std::map<TopicPartition, std::int64_t> (results in the map's order).
  template <class Map, class Token = default_token_t>
    requires std::is_same_v<std::remove_cvref_t<Map>, std::map<TopicPartition, std::int64_t>>
  auto delete_records(const Map& before, DeleteRecordsOptions options = {}, Token&& token = {}) {
    std::vector<std::pair<TopicPartition, std::int64_t>> v(before.begin(), before.end());
    return delete_records(std::move(v), options, std::forward<Token>(token));
  }

  /// Elects leaders (ElectLeaders, Kafka 2.4+, on the controller): the preferred replica, or
  /// an out-of-sync one for leaderless partitions (unclean). `partitions` nullopt: every
  /// partition of the cluster, and the broker then reports only the partitions it tried
  /// (not those where no election was needed). One result per partition (in the order given):
  /// ELECTION_NOT_NEEDED when the leader is already the one the election would choose,
  /// PREFERRED_LEADER_NOT_AVAILABLE, ELIGIBLE_LEADERS_NOT_AVAILABLE,
  /// UNKNOWN_TOPIC_OR_PARTITION.
  template <class Token = default_token_t>
  auto elect_leaders(ElectionType type, std::optional<std::vector<TopicPartition>> partitions,
                     ElectLeadersOptions options = {}, Token&& token = {}) {
    return run<std::vector<ElectLeadersResult>>(std::forward<Token>(token), &detail::admin_elect_leaders, type,
                                                std::move(partitions), options);
  }

  /// Creates ACLs (CreateAcls, on the controller; the cluster needs an authorizer). One
  /// result per binding, in the order given. A binding with an `any`/`unknown` field or a
  /// match/any pattern is refused before sending (client_errc::invalid_argument naming it);
  /// the broker's refusals: SECURITY_DISABLED (no authorizer), INVALID_REQUEST,
  /// CLUSTER_AUTHORIZATION_FAILED.
  template <class Token = default_token_t>
  auto create_acls(std::vector<AclBinding> bindings, CreateAclsOptions options = {}, Token&& token = {}) {
    return run<std::vector<CreateAclResult>>(std::forward<Token>(token), &detail::admin_create_acls,
                                             std::move(bindings), options);
  }
  /// The ACLs matching `filter` (DescribeAcls, any broker), sorted by resource then
  /// principal; none is an empty result. The operation fails with the broker's error
  /// (SECURITY_DISABLED without an authorizer, INVALID_REQUEST for a bad filter).
  template <class Token = default_token_t>
  auto describe_acls(AclBindingFilter filter = {}, DescribeAclsOptions options = {}, Token&& token = {}) {
    return run<std::vector<AclBinding>>(std::forward<Token>(token), &detail::admin_describe_acls, std::move(filter),
                                        options);
  }
  /// Deletes the ACLs matching each filter (DeleteAcls, on the controller). One result per
  /// filter, in the order given, listing the ACLs it deleted, each with its own outcome; a
  /// filter matching nothing has an empty list and no error.
  template <class Token = default_token_t>
  auto delete_acls(std::vector<AclBindingFilter> filters, DeleteAclsOptions options = {}, Token&& token = {}) {
    return run<std::vector<DeleteAclsResult>>(std::forward<Token>(token), &detail::admin_delete_acls,
                                              std::move(filters), options);
  }

  /// The log dirs of brokers (DescribeLogDirs, sent to each broker): path, error, volume size
  /// and free space (Kafka 3.3+), replicas with sizes and offset lag. `broker_ids` empty:
  /// every broker of the cluster. One result per broker (in the order given, else by id); a
  /// broker not answering within the timeout, or an id the cluster does not have, is an
  /// error on its own entry.
  template <class Token = default_token_t>
  auto describe_log_dirs(std::vector<std::int32_t> broker_ids = {}, DescribeLogDirsOptions options = {},
                         Token&& token = {}) {
    return run<std::vector<BrokerLogDirs>>(std::forward<Token>(token), &detail::admin_describe_log_dirs,
                                           std::move(broker_ids), options);
  }
  /// The APIs and versions each broker serves (ApiVersions, sent to every broker), by broker
  /// id; a broker not answering within the timeout is an error on its own entry.
  template <class Token = default_token_t>
  auto describe_api_versions(DescribeApiVersionsOptions options = {}, Token&& token = {}) {
    return run<std::vector<BrokerApiVersions>>(std::forward<Token>(token), &detail::admin_describe_api_versions,
                                               options);
  }
  /// The cluster's finalized feature levels and the levels a broker supports (ApiVersions v3+,
  /// KIP-584, from any broker), as the Java Admin's describeFeatures.
  template <class Token = default_token_t>
  auto describe_features(DescribeFeaturesOptions options = {}, Token&& token = {}) {
    return run<FeatureMetadata>(std::forward<Token>(token), &detail::admin_describe_features, options);
  }
  /// Changes finalized feature levels (UpdateFeatures, on the controller). One result per
  /// feature (by name): INVALID_UPDATE_VERSION for an unknown feature or a level the cluster
  /// cannot run, FEATURE_UPDATE_FAILED. From UpdateFeatures v2 (Kafka 3.8+) the broker
  /// answers for the request as a whole: each feature then carries that answer.
  /// validate_only needs v1 (Kafka 3.3+).
  template <class Token = default_token_t>
  auto update_features(std::map<std::string, FeatureUpdate> updates, UpdateFeaturesOptions options = {},
                       Token&& token = {}) {
    return run<std::vector<UpdateFeatureResult>>(std::forward<Token>(token), &detail::admin_update_features,
                                                 std::move(updates), options);
  }

 private:
  // `fn` is one of the detail::admin_* operations; `args` are its arguments after the state
  // and the result, copied into the operation when it is initiated.
  template <class Result, class Token, class Fn, class... Args>
  auto run(Token&& token, Fn fn, Args... args) {
    return boost::asio::async_initiate<Token, void(error_code, Result)>(
        [state = state_, ex = executor_, fn](auto handler, Args... a) {
          // The result lives in the completion's closure until the operation has ended.
          auto out = std::make_shared<Result>();
          detail::launch(ex, fn(state, *out, std::move(a)...), std::move(handler), [out] { return std::move(*out); });
        },
        token, std::move(args)...);
  }

  template <class Token>
  auto run_void(Token&& token, boost::asio::awaitable<detail::op_error> (*fn)(std::shared_ptr<detail::admin_state>)) {
    return boost::asio::async_initiate<Token, void(error_code)>(
        [state = state_, ex = executor_, fn](auto handler) {
          detail::launch(ex, fn(state), std::move(handler), [] {});
        },
        token);
  }

  executor_type executor_;
  std::shared_ptr<detail::admin_state> state_;
};

}  // namespace asiokafka

//! The Kea 2.2 `Dhcp4` keys this reader knows, as serde types. Every
//! struct denies unknown keys, so a key outside this list is an error
//! naming its JSON path (as Kea refuses it). Keys that Kea has but this
//! server refuses are still listed here, so that the refusal says why
//! rather than "unknown key"; the converter turns them into errors.
//! Keys that change nothing here (`comment`, `user-context`, the SQL
//! back ends' settings) are fields that nothing reads.

#![allow(dead_code)]

use std::net::Ipv4Addr;

use serde::Deserialize;
use serde_json::Value;

/// The whole file: Kea's servers share one file format with one top-level
/// object per server. Only `Dhcp4` is read; the other servers' sections are
/// skipped, as `kea-dhcp4` skips them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Root {
    #[serde(rename = "Dhcp4")]
    pub dhcp4: Option<Dhcp4>,
    #[serde(rename = "Dhcp6")]
    pub _dhcp6: Option<Value>,
    #[serde(rename = "DhcpDdns")]
    pub _ddns: Option<Value>,
    #[serde(rename = "Control-agent")]
    pub _control_agent: Option<Value>,
    #[serde(rename = "Netconf")]
    pub _netconf: Option<Value>,
}

/// `Dhcp4`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Dhcp4 {
    pub interfaces_config: Option<InterfacesConfig>,
    pub lease_database: Option<LeaseDatabase>,
    pub hosts_database: Option<Value>,
    pub hosts_databases: Option<Value>,
    pub valid_lifetime: Option<u32>,
    pub min_valid_lifetime: Option<u32>,
    pub max_valid_lifetime: Option<u32>,
    pub renew_timer: Option<u32>,
    pub rebind_timer: Option<u32>,
    pub calculate_tee_times: Option<bool>,
    pub t1_percent: Option<f64>,
    pub t2_percent: Option<f64>,
    pub authoritative: Option<bool>,
    pub match_client_id: Option<bool>,
    pub echo_client_id: Option<bool>,
    pub next_server: Option<Ipv4Addr>,
    pub boot_file_name: Option<String>,
    pub server_hostname: Option<String>,
    pub decline_probation_period: Option<u32>,
    #[serde(default)]
    pub option_def: Vec<OptionDef>,
    #[serde(default)]
    pub option_data: Vec<OptionData>,
    #[serde(default)]
    pub client_classes: Vec<ClientClass>,
    #[serde(default)]
    pub shared_networks: Vec<SharedNetwork>,
    #[serde(default)]
    pub subnet4: Vec<Subnet>,
    #[serde(default)]
    pub reservations: Vec<Reservation>,
    pub host_reservation_identifiers: Option<Vec<String>>,
    pub reservations_global: Option<bool>,
    pub reservations_in_subnet: Option<bool>,
    pub reservations_out_of_pool: Option<bool>,
    #[serde(default)]
    pub hooks_libraries: Vec<HookLibrary>,
    pub control_socket: Option<ControlSocket>,
    #[serde(default)]
    pub loggers: Vec<Logger>,
    pub expired_leases_processing: Option<Value>,
    pub dhcp_ddns: Option<Value>,
    pub sanity_checks: Option<Value>,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// `interfaces-config`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct InterfacesConfig {
    #[serde(default)]
    pub interfaces: Vec<String>,
    pub dhcp_socket_type: Option<String>,
    pub outbound_interface: Option<String>,
    pub re_detect: Option<bool>,
    pub service_sockets_require_all: Option<bool>,
    pub service_sockets_max_retries: Option<u32>,
    pub service_sockets_retry_wait_time: Option<u32>,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// `lease-database`. The SQL back ends' keys are known so that their
/// refusal names the type, not the first key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct LeaseDatabase {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    pub persist: Option<bool>,
    pub lfc_interval: Option<u32>,
    pub max_row_errors: Option<u32>,
    pub host: Option<Value>,
    pub port: Option<Value>,
    pub user: Option<Value>,
    pub password: Option<Value>,
    pub connect_timeout: Option<Value>,
    pub max_reconnect_tries: Option<Value>,
    pub reconnect_wait_time: Option<Value>,
    pub on_fail: Option<Value>,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// One `option-def` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct OptionDef {
    pub name: String,
    pub code: u32,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub array: bool,
    #[serde(default)]
    pub record_types: String,
    pub space: Option<String>,
    #[serde(default)]
    pub encapsulate: String,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// One `option-data` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct OptionData {
    pub name: Option<String>,
    pub code: Option<u32>,
    pub space: Option<String>,
    pub data: Option<String>,
    pub csv_format: Option<bool>,
    pub always_send: Option<bool>,
    pub never_send: Option<bool>,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// One `client-classes` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ClientClass {
    pub name: String,
    pub test: Option<String>,
    #[serde(default)]
    pub option_data: Vec<OptionData>,
    pub option_def: Option<Value>,
    pub next_server: Option<Ipv4Addr>,
    pub boot_file_name: Option<String>,
    pub server_hostname: Option<String>,
    pub valid_lifetime: Option<u32>,
    pub min_valid_lifetime: Option<u32>,
    pub max_valid_lifetime: Option<u32>,
    pub only_if_required: Option<bool>,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// `relay`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Relay {
    #[serde(default)]
    pub ip_addresses: Vec<Ipv4Addr>,
    pub ip_address: Option<Ipv4Addr>,
}

/// One `shared-networks` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct SharedNetwork {
    pub name: String,
    pub interface: Option<String>,
    pub relay: Option<Relay>,
    #[serde(default)]
    pub subnet4: Vec<Subnet>,
    #[serde(default)]
    pub option_data: Vec<OptionData>,
    pub valid_lifetime: Option<u32>,
    pub min_valid_lifetime: Option<u32>,
    pub max_valid_lifetime: Option<u32>,
    pub renew_timer: Option<u32>,
    pub rebind_timer: Option<u32>,
    pub next_server: Option<Ipv4Addr>,
    pub boot_file_name: Option<String>,
    pub server_hostname: Option<String>,
    pub authoritative: Option<bool>,
    pub match_client_id: Option<bool>,
    pub client_class: Option<String>,
    pub reservations_global: Option<bool>,
    pub reservations_in_subnet: Option<bool>,
    pub reservations_out_of_pool: Option<bool>,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// One `subnet4` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Subnet {
    pub id: Option<u32>,
    pub subnet: String,
    #[serde(default)]
    pub pools: Vec<Pool>,
    #[serde(default)]
    pub option_data: Vec<OptionData>,
    pub next_server: Option<Ipv4Addr>,
    pub boot_file_name: Option<String>,
    pub server_hostname: Option<String>,
    pub relay: Option<Relay>,
    #[serde(default)]
    pub reservations: Vec<Reservation>,
    pub interface: Option<String>,
    pub valid_lifetime: Option<u32>,
    pub min_valid_lifetime: Option<u32>,
    pub max_valid_lifetime: Option<u32>,
    pub renew_timer: Option<u32>,
    pub rebind_timer: Option<u32>,
    pub authoritative: Option<bool>,
    pub match_client_id: Option<bool>,
    pub client_class: Option<String>,
    pub reservations_global: Option<bool>,
    pub reservations_in_subnet: Option<bool>,
    pub reservations_out_of_pool: Option<bool>,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// One `pools` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Pool {
    pub pool: String,
    pub client_class: Option<String>,
    #[serde(default)]
    pub option_data: Vec<OptionData>,
    pub require_client_classes: Option<Vec<String>>,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// One `reservations` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Reservation {
    pub hw_address: Option<String>,
    pub client_id: Option<String>,
    pub duid: Option<String>,
    pub circuit_id: Option<String>,
    pub flex_id: Option<String>,
    pub ip_address: Option<Ipv4Addr>,
    pub hostname: Option<String>,
    pub next_server: Option<Ipv4Addr>,
    pub boot_file_name: Option<String>,
    pub server_hostname: Option<String>,
    #[serde(default)]
    pub option_data: Vec<OptionData>,
    #[serde(default)]
    pub client_classes: Vec<String>,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// One `hooks-libraries` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HookLibrary {
    pub library: String,
    pub parameters: Option<Value>,
}

/// `control-socket`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ControlSocket {
    pub socket_type: String,
    pub socket_name: String,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// One `loggers` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct Logger {
    pub name: String,
    #[serde(default, alias = "output_options")]
    pub output_options: Vec<LogOutput>,
    pub severity: Option<String>,
    pub debuglevel: Option<u32>,
    pub comment: Option<String>,
    pub user_context: Option<Value>,
}

/// One `output_options` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogOutput {
    pub output: String,
    pub flush: Option<bool>,
    pub maxsize: Option<u64>,
    pub maxver: Option<u32>,
    pub pattern: Option<String>,
}

/// `libdhcp_run_script.so` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunScriptParams {
    pub name: String,
    #[serde(default)]
    pub sync: bool,
}

/// `libdhcp_ha.so` parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct HaParams {
    pub high_availability: Vec<HaRelationship>,
}

/// One `high-availability` relationship.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct HaRelationship {
    pub this_server_name: String,
    pub mode: String,
    pub heartbeat_delay: Option<u32>,
    pub max_response_delay: Option<u32>,
    pub max_ack_delay: Option<u32>,
    pub max_unacked_clients: Option<u32>,
    pub send_lease_updates: Option<bool>,
    pub sync_leases: Option<bool>,
    pub sync_timeout: Option<u32>,
    pub sync_page_limit: Option<u32>,
    pub delayed_updates_limit: Option<u32>,
    pub wait_backup_ack: Option<bool>,
    pub peers: Vec<HaPeer>,
}

/// One HA peer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct HaPeer {
    pub name: String,
    pub url: String,
    pub role: String,
    pub auto_failover: Option<bool>,
    pub basic_auth_user: Option<String>,
    pub basic_auth_password: Option<String>,
}

//! Scopes: classes, failover peers, hosts, shared networks and subnets.

use super::values::encode;
use super::*;

impl Converter {
    pub(super) fn class(
        &mut self,
        s: &Stmt,
        name: &str,
        matcher: Option<&Expr>,
        body: &[Stmt],
    ) -> R<()> {
        let mut c = ClassConfig {
            name: name.to_owned(),
            vendor_class_prefix: None,
            user_class: None,
            lease_time: LeaseTimes::default(),
            options: OptionSet::default(),
        };
        match matcher {
            Some(Expr::Equal(a, b)) => match (a.as_ref(), b.as_ref()) {
                (Expr::Substring(data, off, len), Expr::Str(text))
                    if matches!(data.as_ref(), Expr::Option(o) if o.space == "dhcp" && o.code == 60)
                        && **off == Expr::Num(0)
                        && **len == Expr::Num(text.len() as u64) =>
                {
                    c.vendor_class_prefix = Some(text.clone())
                }
                (Expr::Option(o), Expr::Str(text)) if o.space == "dhcp" && o.code == 60 => {
                    return err(
                        s.pos,
                        ErrorKind::Unsupported,
                        format!(
                            "class {name:?}: an exact vendor-class-identifier match is not supported; match a prefix with substring(option vendor-class-identifier, 0, {})",
                            text.len()
                        ),
                    );
                }
                (Expr::Option(o), Expr::Str(text)) if o.space == "dhcp" && o.code == 77 => {
                    c.user_class = Some(text.clone())
                }
                _ => {
                    return err(
                        s.pos,
                        ErrorKind::Unsupported,
                        format!(
                            "class {name:?}: match if {}: only substring(option vendor-class-identifier, 0, N) = \"…\" (N the text's length) and option user-class = \"…\" are supported",
                            Expr::Equal(a.clone(), b.clone())
                        ),
                    );
                }
            },
            Some(e) => {
                return err(
                    s.pos,
                    ErrorKind::Unsupported,
                    format!(
                        "class {name:?}: match if {e}: only a prefix of vendor-class-identifier or an exact user-class can be matched"
                    ),
                );
            }
            None => {
                return err(
                    s.pos,
                    ErrorKind::Unsupported,
                    format!(
                        "class {name:?} without match if (membership by subclass) is not supported"
                    ),
                );
            }
        }
        let mut v = Vals::default();
        for st in body {
            if matches!(
                st.kind,
                StmtKind::NextServer(_) | StmtKind::IgnoreClientUids(_)
            ) {
                return not_here(st, Scope::Class, "");
            }
            if !self.common(st, Scope::Class, &mut v)? {
                return not_here(st, Scope::Class, "");
            }
        }
        c.lease_time = v.lease;
        c.options = v.options;
        let i = self.cfg.classes.len();
        self.paths.push((format!("classes[{i}]"), s.pos));
        self.cfg.classes.push(c);
        Ok(())
    }

    pub(super) fn peer(&mut self, pos: Pos, name: &str, params: &[(Pos, PeerParam)]) -> R<()> {
        let mut role = None;
        let (mut address, mut peer_address) = (None, None);
        let mut f = FailoverConfig {
            name: name.to_owned(),
            role: Role::Primary,
            address: Ipv4Addr::UNSPECIFIED,
            port: 647,
            peer_address: Ipv4Addr::UNSPECIFIED,
            peer_port: 647,
            max_response_delay: 20,
            max_unacked_updates: 100,
            mclt: None,
            split: None,
            hba: None,
            load_balance_max_seconds: 0,
            auto_partner_down: 0,
            max_lease_misbalance: 15,
            max_lease_ownership: 10,
            min_balance: 60,
            max_balance: 3600,
            fencing: None,
        };
        let mut seen: Vec<std::mem::Discriminant<PeerParam>> = Vec::new();
        for (ppos, p) in params {
            let d = std::mem::discriminant(p);
            let d = if matches!(p, PeerParam::Secondary) {
                std::mem::discriminant(&PeerParam::Primary)
            } else {
                d
            };
            if seen.contains(&d) {
                return err(
                    *ppos,
                    ErrorKind::Invalid,
                    format!("failover peer {name:?}: parameter given twice"),
                );
            }
            seen.push(d);
            match p {
                PeerParam::Primary => role = Some(Role::Primary),
                PeerParam::Secondary => role = Some(Role::Secondary),
                PeerParam::Address(a) => address = Some(*a),
                PeerParam::Port(n) => f.port = *n,
                PeerParam::PeerAddress(a) => peer_address = Some(*a),
                PeerParam::PeerPort(n) => f.peer_port = *n,
                PeerParam::MaxResponseDelay(n) => f.max_response_delay = *n,
                PeerParam::MaxUnackedUpdates(n) => f.max_unacked_updates = *n,
                PeerParam::Mclt(n) => f.mclt = Some(*n),
                PeerParam::Split(n) => f.split = Some(*n),
                PeerParam::Hba(b) => f.hba = Some(format_hex(b)),
                PeerParam::LoadBalanceMaxSeconds(n) => f.load_balance_max_seconds = *n,
                PeerParam::AutoPartnerDown(n) => f.auto_partner_down = *n,
                PeerParam::MaxLeaseMisbalance(n) => f.max_lease_misbalance = *n,
                PeerParam::MaxLeaseOwnership(n) => f.max_lease_ownership = *n,
                PeerParam::MinBalance(n) => f.min_balance = *n,
                PeerParam::MaxBalance(n) => f.max_balance = *n,
            }
        }
        let missing = |what: &str| {
            err(
                pos,
                ErrorKind::Invalid,
                format!("failover peer {name:?}: {what} is required"),
            )
        };
        let Some(role) = role else {
            return missing("primary; or secondary;");
        };
        let Some(address) = address else {
            return missing("address");
        };
        let Some(peer_address) = peer_address else {
            return missing("peer address");
        };
        if role == Role::Secondary && f.mclt.is_some() {
            return err(
                pos,
                ErrorKind::Invalid,
                format!("failover peer {name:?}: mclt is only valid on the primary"),
            );
        }
        f.role = role;
        f.address = address;
        f.peer_address = peer_address;
        if self.cfg.failover.iter().any(|o| o.name == name) {
            return err(
                pos,
                ErrorKind::Invalid,
                format!("failover peer {name:?} declared twice"),
            );
        }
        let i = self.cfg.failover.len();
        self.paths.push((format!("failover[{i}]"), pos));
        self.cfg.failover.push(f);
        Ok(())
    }

    pub(super) fn host(&mut self, pos: Pos, name: &str, body: &[Stmt]) -> R<()> {
        let mut v = Vals::default();
        let (mut mac, mut address, mut boot_file, mut next_server, mut client_id) =
            (None, None, None, None, None);
        for s in body {
            if self.common(s, Scope::Host, &mut v)? {
                continue;
            }
            match &s.kind {
                StmtKind::HardwareEthernet(m) => {
                    if mac.replace(HwAddr::ethernet(*m)).is_some() {
                        return err(
                            s.pos,
                            ErrorKind::Invalid,
                            format!("host {name:?}: hardware given twice"),
                        );
                    }
                }
                StmtKind::FixedAddress(a) => {
                    if address.replace(*a).is_some() {
                        return err(
                            s.pos,
                            ErrorKind::Invalid,
                            format!("host {name:?}: fixed-address given twice"),
                        );
                    }
                }
                StmtKind::Filename(f) => boot_file = Some(f.clone()),
                StmtKind::NextServer(a) => next_server = Some(*a),
                StmtKind::OptionSet(o, _, OptionData::Values(vals)) if o.code == 61 => {
                    let mut bytes = Vec::new();
                    encode(s.pos, &Format::String, vals, &mut bytes)?;
                    client_id = Some(bytes);
                }
                _ => return not_here(s, Scope::Host, ""),
            }
        }
        let Some(address) = address else {
            return err(
                pos,
                ErrorKind::Unsupported,
                format!("host {name:?} without fixed-address: only reservations are supported"),
            );
        };
        let i = self.cfg.hosts.len();
        self.paths.push((format!("hosts[{i}]"), pos));
        self.cfg.hosts.push(HostConfig {
            name: name.to_owned(),
            mac,
            client_id,
            address,
            boot_file,
            next_server,
            lease_time: v.lease,
            options: v.options,
        });
        Ok(())
    }

    pub(super) fn shared_network(
        &mut self,
        pos: Pos,
        name: &str,
        body: &[Stmt],
        next_server: Option<Ipv4Addr>,
    ) -> R<()> {
        let ni = self.cfg.shared_networks.len();
        let mut v = Vals {
            next_server,
            ..Vals::default()
        };
        let mut subs = Vec::new();
        for s in body {
            if self.common(s, Scope::SharedNetwork, &mut v)? {
                continue;
            }
            match &s.kind {
                StmtKind::Subnet { .. } => subs.push(s),
                StmtKind::Host { name, body } => self.host(s.pos, name, body)?,
                _ => return not_here(s, Scope::SharedNetwork, ""),
            }
        }
        if subs.is_empty() {
            return err(
                pos,
                ErrorKind::Invalid,
                format!("shared-network {name:?} has no subnet"),
            );
        }
        self.paths.push((format!("shared_networks[{ni}]"), pos));
        let mut subnets = Vec::new();
        for s in subs {
            if let StmtKind::Subnet {
                network,
                mask,
                body,
            } = &s.kind
            {
                let path = format!("shared_networks[{ni}].subnets[{}]", subnets.len());
                subnets.push(self.subnet(
                    s.pos,
                    *network,
                    *mask,
                    body,
                    v.next_server,
                    v.ignore_uids,
                    &path,
                )?);
            }
        }
        self.cfg.shared_networks.push(SharedNetworkConfig {
            name: name.to_owned(),
            interface: None,
            lease_time: v.lease,
            options: v.options,
            subnets,
        });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn subnet(
        &mut self,
        pos: Pos,
        network: Ipv4Addr,
        mask: Ipv4Addr,
        body: &[Stmt],
        next_server: Option<Ipv4Addr>,
        ignore_uids: Option<bool>,
        path: &str,
    ) -> R<SubnetConfig> {
        let Ok(net) = Ipv4Net::with_netmask(network, mask) else {
            return err(
                pos,
                ErrorKind::Invalid,
                format!("subnet {network} netmask {mask}: the netmask is not contiguous"),
            );
        };
        self.paths.push((path.to_owned(), pos));
        let mut v = Vals {
            next_server,
            ignore_uids,
            ..Vals::default()
        };
        let mut pools = Vec::new();
        let mut chain = None;
        for s in body {
            if self.common(s, Scope::Subnet, &mut v)? {
                continue;
            }
            match &s.kind {
                StmtKind::Range(lo, hi) => {
                    self.paths
                        .push((format!("{path}.pools[{}]", pools.len()), s.pos));
                    pools.push(PoolConfig {
                        start: *lo,
                        end: *hi,
                        failover_peer: None,
                    });
                }
                StmtKind::Pool(pbody) => {
                    let mut peer = None;
                    let mut ranges = Vec::new();
                    for ps in pbody {
                        match &ps.kind {
                            StmtKind::PoolPeer(n) => {
                                if peer.replace(n.clone()).is_some() {
                                    return err(
                                        ps.pos,
                                        ErrorKind::Invalid,
                                        "a pool names one failover peer",
                                    );
                                }
                            }
                            StmtKind::Range(lo, hi) => ranges.push((ps.pos, *lo, *hi)),
                            _ => {
                                let mut scratch = Vals::default();
                                if !self.common(ps, Scope::Pool, &mut scratch)? {
                                    return not_here(
                                        ps,
                                        Scope::Pool,
                                        "a pool takes only failover peer and range",
                                    );
                                }
                            }
                        }
                    }
                    if ranges.is_empty() {
                        return err(s.pos, ErrorKind::Invalid, "pool without a range");
                    }
                    for (rpos, lo, hi) in ranges {
                        self.paths
                            .push((format!("{path}.pools[{}]", pools.len()), rpos));
                        pools.push(PoolConfig {
                            start: lo,
                            end: hi,
                            failover_peer: peer.clone(),
                        });
                    }
                }
                StmtKind::Host { name, body } => self.host(s.pos, name, body)?,
                StmtKind::If { .. } => {
                    if chain.replace(s).is_some() {
                        return err(
                            s.pos,
                            ErrorKind::Unsupported,
                            "a subnet may hold one boot chain (if … elsif … else)",
                        );
                    }
                }
                StmtKind::Filename(_) => {
                    return not_here(
                        s,
                        Scope::Subnet,
                        "a boot file is given in a host, or in the subnet's boot chain (if … elsif … else)",
                    );
                }
                _ => return not_here(s, Scope::Subnet, ""),
            }
        }
        let pxe = match chain {
            Some(s) => {
                self.boot_chain(s, v.next_server)?;
                true
            }
            None => false,
        };
        Ok(SubnetConfig {
            subnet: net,
            interface: None,
            next_server: v.next_server,
            ignore_client_uids: v.ignore_uids,
            lease_time: v.lease,
            options: v.options,
            pxe,
            abandon_time: None,
            pools,
        })
    }
}

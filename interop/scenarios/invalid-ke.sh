# about: INVALID_KE_PAYLOAD: the initiator guesses x25519, the responder wants ecp384; it comes up
#
#   host-a 10.1.0.10                                                      host-b 10.2.0.10
#      |                                                                       |
#   [router a] vti-b ==== IKE_SA_INIT: KE(x25519) -> N(INVALID_KE_PAYLOAD, ecp384) ==== [router b]
#      |               ==== IKE_SA_INIT again with KE(ecp384) -> tunnel up ====     vti-a |
#      | eth0 192.0.2.1                                      198.51.100.1 eth0 |
#      +-- eth-a 192.0.2.254 ---------[ inet ]--------- 198.51.100.254 eth-b --+
#
# RFC 7296 1.2 / 2.7: the initiator offers x25519 and ecp384 but sends its KE for x25519 (first);
# the responder only accepts ecp384 and answers INVALID_KE_PAYLOAD naming it; the initiator
# restarts IKE_SA_INIT with an ecp384 KE. Parameters: ROLE_A, INITIATOR (a | b): the initiator
# gets IKE=...-x25519-ecp384, the responder ...-ecp384 only.

initiator=${INITIATOR:-a}
responder=$([[ $initiator == a ]] && echo b || echo a)

lab_topology_two_sites
lab_tunnel a b
lab_conn "$initiator" "$responder" ike=aes256gcm16-prfsha256-x25519-ecp384
lab_conn "$responder" "$initiator" ike=aes256gcm16-prfsha256-ecp384
lab_start a b
lab_capture inet eth-a transport-a

expect "tunnel up: initiate from $initiator" lab_initiate "$initiator" "to-$responder"
expect "tunnel up on a" lab_wait_sa a to-b
expect "tunnel up on b" lab_wait_sa b to-a
expect "on the wire: two IKE_SA_INIT requests" lab_ike_seen transport-a 2 IKE_SA_INIT request
expect "on the wire: an IKE_SA_INIT response that starts with a Notify" \
  lab_ike_seen transport-a 1 IKE_SA_INIT response 41
expect "INVALID_KE logged by the initiator ($initiator)" lab_log_has "$initiator" "INVAL(ID)?_KE"
for x in a b; do
  if [[ $(role_of "$x") == charon ]]; then
    expect "$x (charon) reports ECP_384 for the IKE_SA" lab_list_has "$x" "/ECP_384"
  fi
done
expect "ping Net A -> Net B through the VTIs" lab_ping host-a "${LAB_HOST[b]}" 3

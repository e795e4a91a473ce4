/**
 * The two examples of networking-spp's doc/source/customization.rst
 * (0170ff7), verbatim: SPP_COMPONENT_CONF files as operators wrote them.
 */

/** Example 1 "core duplication": forward_<v>_tx and forward_<v>_rx share a core; local.conf mask 0x3e (and the doc's typo x3c02 for NIC 2). */
export const EXAMPLE_1_YAML = `vf:
- components:
  - core: 2
    name: forward_0_tx
    rx_port: ['ring:0']
    tx_port: ['vhost:0']
    type: forward
  - core: 2
    name: forward_0_rx
    rx_port: ['vhost:0']
    tx_port: ['ring:1']
    type: forward
  - core: 3
    name: forward_1_tx
    rx_port: ['ring:2']
    tx_port: ['vhost:1']
    type: forward
  - core: 3
    name: forward_1_rx
    rx_port: ['vhost:1']
    tx_port: ['ring:3']
    type: forward
  - core: 4
    name: classifier
    rx_port: ['phy:0']
    tx_port: ['ring:0', 'ring:2']
    type: classifier_mac
  - core: 5
    name: merger
    rx_port: ['ring:1', 'ring:3']
    tx_port: ['phy:0']
    type: merge
- components:
  - core: 10
    name: forward_2_tx
    rx_port: ['ring:4']
    tx_port: ['vhost:2']
    type: forward
  - core: 10
    name: forward_2_rx
    rx_port: ['vhost:2']
    tx_port: ['ring:5']
    type: forward
  - core: 11
    name: forward_3_tx
    rx_port: ['ring:6']
    tx_port: ['vhost:3']
    type: forward
  - core: 11
    name: forward_3_rx
    rx_port: ['vhost:3']
    tx_port: ['ring:7']
    type: forward
  - core: 12
    name: classifier
    rx_port: ['phy:1']
    tx_port: ['ring:4', 'ring:6']
    type: classifier_mac
  - core: 13
    name: merger
    rx_port: ['ring:5', 'ring:7']
    tx_port: ['phy:1']
    type: merge
`;
export const EXAMPLE_1_MAPPINGS = '00:04.0#phys1#2#0x3e,00:05.0#phys2#2#0x3c02';

/** Example 2 "omitting forwarders": the classifier feeds the vhosts and the merger reads them; mask 0xc2 (the doc's typo xc002 for NIC 2). */
export const EXAMPLE_2_YAML = `vf:
- components:
  - core: 6
    name: classifier
    rx_port: ['phy:0']
    tx_port: ['vhost:0', 'vhost:1']
    type: classifier_mac
  - core: 7
    name: merger
    rx_port: ['vhost:0', 'vhost:1']
    tx_port: ['phy:0']
    type: merge
- components:
  - core: 14
    name: classifier
    rx_port: ['phy:1']
    tx_port: ['vhost:2', 'vhost:3']
    type: classifier_mac
  - core: 15
    name: merger
    rx_port: ['vhost:2', 'vhost:3']
    tx_port: ['phy:1']
    type: merge
`;
export const EXAMPLE_2_MAPPINGS = '00:04.0#phys1#2#0xc2,00:05.0#phys2#2#0xc002';

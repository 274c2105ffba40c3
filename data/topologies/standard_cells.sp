* Standard digital cells as the public AnalogGenie data set's N_full.cir files define them (pin order
* included); eda.read.topology_dataset expands an instance of one a circuit does not define from here.
.subckt INVERTER A Q VDD VSS
M0 (Q A VDD VDD) pmos4
M1 (Q A VSS VSS) nmos4
.ends INVERTER
.subckt TRANSMISSION_GATE A B C VDD VSS
M0 (A net8 B VDD) pmos4
M1 (A C B VSS) nmos4
I0 (C net8 VDD VSS) INVERTER
.ends TRANSMISSION_GATE
.subckt NAND A B Q VDD VSS
M1 (Q B VDD VDD) pmos4
M0 (Q A VDD VDD) pmos4
M3 (net10 B VSS VSS) nmos4
M2 (Q A net10 VSS) nmos4
.ends NAND
.subckt NOR A B Q VDD VSS
M1 (Q A net5 VDD) pmos4
M0 (net5 B VDD VDD) pmos4
M3 (Q B VSS VSS) nmos4
M2 (Q A VSS VSS) nmos4
.ends NOR
.subckt XOR A B VDD VSS Y
M4 (Y A B VDD) pmos4
M2 (Y B A VDD) pmos4
M0 (net8 A VDD VDD) pmos4
M5 (Y net8 B VSS) nmos4
M3 (Y B net8 VSS) nmos4
M1 (net8 A VSS VSS) nmos4
.ends XOR

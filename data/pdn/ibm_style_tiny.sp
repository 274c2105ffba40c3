* IBM power-grid style deck (ibmpg-like): VDD net n0 and GND net n3, package pads behind _X_ nodes,
* 0-V sources used as shorts, loads between the nets and into ground, pulse loads for .tran
* layer: M1,VDD net: 0
rA0 n0_0_0 n0_2000_0 0.5
rA1 n0_2000_0 n0_4000_0 0.5
rA2 n0_0_4000 n0_2000_4000 0.5
rA3 n0_2000_4000 n0_4000_4000 0.5
* layer: M2,VDD net: 0 (vias as 0-V shorts to a second set of nodes)
V0 n0_0_0 n0_0_0m2 0
V1 n0_4000_4000 n0_4000_4000m2 0
rB0 n0_0_0m2 n0_0_4000 0.2
rB1 n0_4000_0 n0_4000_4000m2 0.2
rB2 n0_2000_0 n0_2000_4000 0.3
* package: pads behind inductors
vpad0 _X_n0_0_0 0 1.8
lpkg0 _X_n0_0_0 n0_0_0 5p
vpad1 _X_n0_4000_4000 0 1.8
lpkg1 _X_n0_4000_4000 n0_4000_4000 5p
* layer: M1,GND net: 3
rC0 n3_0_0 n3_2000_0 0.5
rC1 n3_2000_0 n3_4000_0 0.5
rC2 n3_0_0 n3_0_4000 0.5
rC3 n3_0_4000 n3_2000_4000 0.5
rC4 n3_2000_4000 n3_4000_4000 0.5
vgnd0 n3_0_0 0 0
vgnd1 n3_4000_4000 0 0
* decaps and loads
c0 n0_2000_0 n3_2000_0 2p
c1 n0_2000_4000 n3_2000_4000 2p
iL0 n0_2000_0 n3_2000_0 pulse(1m 6m 0.1n 50p 50p 0.3n 1n)
iL1 n0_2000_4000 n3_2000_4000 pulse(1m 4m 0.3n 50p 50p 0.3n 1n)
iL2 n0_4000_0 0 2m
i3 0 n3_4000_0 1m
.tran 1p 2n
.end

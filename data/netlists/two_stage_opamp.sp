Two-stage Miller op-amp in unity-gain follower, generic level-1 models
* ports: VDD VSS VIN VOUT
.param wn=2u wp=4u lch=1u
.model nch nmos (level=1 vto=0.5 kp=120u lambda=0.05)
.model pch pmos (level=1 vto=-0.5 kp=40u lambda=0.05)
.subckt opamp inp inn out vdd vss
* input pair and mirror load
M1 n1 inn tail vss nch w={wn} l={lch}
M2 n2 inp tail vss nch w={wn} l={lch}
M3 n1 n1 vdd vdd pch w={wp} l={lch}
M4 n2 n1 vdd vdd pch w={wp} l={lch}
* tail and bias
M5 tail bias vss vss nch w=4u l=1u
M8 bias bias vss vss nch w=4u l=1u
Ib vdd bias dc 20u
* second stage + Miller compensation
M6 out n2 vdd vdd pch w=40u l=1u
M7 out bias vss vss nch w=20u l=1u
Cc n2 out 2p
.ends opamp
VDD vdd 0 dc 1.8
VSS vss 0 dc 0
VIN in 0 dc 0.9 ac 1
XOA in out out vdd vss opamp
CL out 0 1p ; load
.op
.end

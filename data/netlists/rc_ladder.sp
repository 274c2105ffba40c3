RC ladder driven by a pulse
V1 in 0 pulse(0 1 10n 1n 1n 2u 4u)
R1 in n1 1k
C1 n1 0 100p
R2 n1 n2 1k
C2 n2 0 100p
R3 n2 out 1k
C3 out 0 100p
.tran 10n 4u
.end

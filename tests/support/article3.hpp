// Known answers from the protocol text itself (/work/shared/protocols/vdab-derde-pijler-2023.txt,
// article 3), written out by hand: tests compare against these, never against values computed by
// the code under test (protocol->output_columns() and the like).
#pragma once

namespace kbix::test {

// The pseudonymised output's 25 columns: the 19 KBI profile fields, then VDAB's 6 fields, without
// insz (pseudonym = "none").
inline constexpr const char* kArticle3OutputHeader =
    "leeftijdscategorie;geslacht;scholingsniveau;oudste_nationaliteit;datum_toeleiding_vdab;"
    "doelgroep;datum_doelgroep;datum_aanmelding;datum_inburgeringscontract;kbi_regio;besluit_plo;"
    "reden_besluit_plo;ingeschat_taalleervermogen;hoogst_behaald_niveau_nt2;trajecttype;"
    "toeleiding_diplomagelijkschakeling;resultaat_diplomagelijkschakeling;ocmw_leefloon;"
    "verblijfsstatus;eerste_inschrijving_vdab;recentste_inschrijving_vdab;categorie_werkzoekende;"
    "status_dienstverlening;type_acties;uitstroom_naar_werk";

}  // namespace kbix::test

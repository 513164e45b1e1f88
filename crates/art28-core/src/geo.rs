//! Where data may be: countries, the EU/EEA, and adequacy decisions (R1.1, R5.4).

/// ISO 3166-1 alpha-2 codes.
const ISO_3166: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// The member states of the European Union.
const EU: &str = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK";

/// The EEA members outside the EU.
const EEA_EXTRA: &str = "IS LI NO";

/// Countries with an adequacy decision of the European Commission (GDPR art 45). For the
/// United States it covers only organisations certified under the EU-US Data Privacy
/// Framework; an agreement must then say so in the transfer's reference.
const ADEQUATE: &str = "AD AR CA CH FO GB GG IL IM JE JP KR NZ US UY";

/// Whether a code is a known ISO 3166-1 alpha-2 country.
pub fn is_country(code: &str) -> bool {
    code.len() == 2 && ISO_3166.split(' ').any(|c| c == code)
}

/// Whether a location code (a country, `EU` or `EEA`) is inside the EU/EEA.
pub fn in_eea(code: &str) -> bool {
    matches!(code, "EU" | "EEA") || EU.split(' ').chain(EEA_EXTRA.split(' ')).any(|c| c == code)
}

/// Whether a location code is a region art28 knows: a country, `EU` or `EEA`.
pub fn is_location(code: &str) -> bool {
    matches!(code, "EU" | "EEA") || is_country(code)
}

/// Whether the Commission found the country adequate.
pub fn has_adequacy_decision(code: &str) -> bool {
    ADEQUATE.split(' ').any(|c| c == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_regions() {
        assert!(in_eea("NL") && in_eea("BE") && in_eea("NO") && in_eea("EU"));
        assert!(!in_eea("US") && !in_eea("GB") && !in_eea("CH"));
        assert!(has_adequacy_decision("CH") && !has_adequacy_decision("IN"));
        assert!(is_country("IN") && !is_country("XX") && !is_country("nl"));
        assert!(EU.split(' ').chain(ADEQUATE.split(' ')).all(is_country));
    }
}

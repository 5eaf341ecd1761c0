//! The pages' own wording in Kazakh and Russian. Only the interface is translated: the
//! legal texts, the forms and the names in the data stay as issued.

use crate::sign::verify::SubIndication;

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Kk,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Kk, Lang::Ru];

    /// The BCP 47 code (`<html lang>`, `?lang=`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
        }
    }

    /// The language's own name, for the switch.
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::Kk => "Қазақша",
            Lang::Ru => "Русский",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "kk" | "kz" => Some(Lang::Kk),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }

    /// `?lang=` wins; then the first of `Accept-Language`'s languages (by weight) that
    /// the pages speak; then Kazakh, the state language.
    pub fn negotiate(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(l) = query.and_then(Lang::parse) {
            return l;
        }
        let mut offered: Vec<(f32, usize, Lang)> = accept_language
            .unwrap_or_default()
            .split(',')
            .enumerate()
            .filter_map(|(i, item)| {
                let mut parts = item.split(';');
                let lang = Lang::parse(parts.next()?)?;
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, i, lang))
            })
            .collect();
        offered.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        offered.first().map_or(Lang::Kk, |o| o.2)
    }

    pub fn words(self) -> &'static Words {
        match self {
            Lang::Kk => &KK,
            Lang::Ru => &RU,
        }
    }
}

/// Every phrase of the pages, one field each, so that a phrase missing in one language
/// does not compile.
pub struct Words {
    pub lang: Lang,
    pub site: &'static str,
    pub ministry: &'static str,
    pub nav_decisions: &'static str,
    pub nav_verify: &'static str,
    pub language: &'static str,
    pub skip: &'static str,
    pub decisions_title: &'static str,
    pub decisions_intro: &'static str,
    pub no_decisions: &'static str,
    pub quota_years: &'static str,
    pub version: &'static str,
    pub published: &'static str,
    pub on_time: &'static str,
    pub late: &'static str,
    pub due: &'static str,
    pub first_version: &'static str,
    pub redistribution: &'static str,
    pub latest: &'static str,
    pub decision_title: &'static str,
    pub order: &'static str,
    pub order_of: &'static str,
    pub parts: &'static str,
    pub part: &'static str,
    pub percent: &'static str,
    pub ceiling: &'static str,
    pub requested: &'static str,
    pub allocated: &'static str,
    pub reserve: &'static str,
    pub region: &'static str,
    pub category: &'static str,
    pub country: &'static str,
    pub granted: &'static str,
    pub total: &'static str,
    pub part_permits: &'static str,
    pub part_countries: &'static str,
    pub part_immigrants: &'static str,
    pub categories: [&'static str; 5],
    pub moves: &'static str,
    pub move_from: &'static str,
    pub move_to: &'static str,
    pub count: &'static str,
    pub basis: &'static str,
    pub from_reserve: &'static str,
    pub downloads: &'static str,
    pub download_pdf: &'static str,
    pub download_cms: &'static str,
    pub download_csv: &'static str,
    pub download_json: &'static str,
    pub verify_link: &'static str,
    pub other_versions: &'static str,
    pub doc_title: &'static str,
    pub title_label: &'static str,
    pub issued_document: &'static str,
    pub doc_kind: &'static str,
    pub doc_number: &'static str,
    pub doc_issued: &'static str,
    pub doc_sha256: &'static str,
    pub doc_size: &'static str,
    pub bytes: &'static str,
    pub doc_checked: &'static str,
    pub not_public: &'static str,
    pub signatures: &'static str,
    pub signer: &'static str,
    pub organisation: &'static str,
    pub bin: &'static str,
    pub iin: &'static str,
    pub role: &'static str,
    pub signing_time: &'static str,
    pub timestamp_time: &'static str,
    pub level: &'static str,
    pub result: &'static str,
    pub why: &'static str,
    pub embedded: &'static str,
    pub detached: &'static str,
    pub document_timestamp: &'static str,
    pub holds: &'static str,
    pub fails: &'static str,
    pub undecided: &'static str,
    pub all_hold: &'static str,
    pub not_all_hold: &'static str,
    pub superseded_by: &'static str,
    pub withdrawn: &'static str,
    pub current: &'static str,
    pub check_file: &'static str,
    pub check_file_help: &'static str,
    pub pdf_file: &'static str,
    pub cms_file: &'static str,
    pub check_button: &'static str,
    pub verify_title: &'static str,
    pub verify_intro: &'static str,
    pub code_label: &'static str,
    pub open_code: &'static str,
    pub same_bytes: &'static str,
    pub other_bytes: &'static str,
    pub issued_as: &'static str,
    pub not_issued: &'static str,
    pub no_signatures: &'static str,
    pub not_a_pdf: &'static str,
    pub too_large: &'static str,
    pub busy: &'static str,
    pub not_found_title: &'static str,
    pub not_found: &'static str,
    pub back_home: &'static str,
    pub dash: &'static str,
}

impl Words {
    pub fn part(&self, code: &str) -> &'static str {
        match code {
            "PERMITS" => self.part_permits,
            "COUNTRIES" => self.part_countries,
            _ => self.part_immigrants,
        }
    }

    /// "1".."4", "seasonal"; "" (labour immigrants) reads as a dash.
    pub fn category(&self, code: &str) -> &'static str {
        match code {
            "1" => self.categories[0],
            "2" => self.categories[1],
            "3" => self.categories[2],
            "4" => self.categories[3],
            "seasonal" => self.categories[4],
            _ => self.dash,
        }
    }

    /// A document kind in words.
    pub fn kind(&self, kind: &str) -> &'static str {
        let (kk, ru) = match kind {
            "APPENDIX_1" => (
                "Жұмыс берушінің өтініші (1-қосымша)",
                "Заявка работодателя (приложение 1)",
            ),
            "APPENDIX_2" => (
                "Өңірдің қажеттілігі (2-қосымша)",
                "Потребность региона (приложение 2)",
            ),
            "APPENDIX_3" => (
                "Еңбек иммигранттарына қажеттілік (3-қосымша)",
                "Потребность в трудовых иммигрантах (приложение 3)",
            ),
            "APPENDIX_4" => (
                "Шығу елдері бойынша квота (4-қосымша)",
                "Квота по странам происхождения (приложение 4)",
            ),
            "COMMISSION_PROTOCOL" => ("Комиссия хаттамасы", "Протокол комиссии"),
            "EMPLOYER_NOTICE" => ("Жұмыс берушіге хабарлама", "Уведомление работодателю"),
            "QUOTA_DECISION" => (
                "Министрліктің квота туралы шешімі",
                "Решение министерства о квоте",
            ),
            _ => ("Құжат", "Документ"),
        };
        match self.lang {
            Lang::Kk => kk,
            Lang::Ru => ru,
        }
    }

    /// A signer's role in words.
    pub fn signer_role(&self, role: &str) -> &'static str {
        let (kk, ru) = match role {
            "SERVICE_SEAL" => ("Сервистің электрондық мөрі", "Электронная печать сервиса"),
            "EMPLOYER_HEAD" => ("Жұмыс берушінің басшысы", "Руководитель работодателя"),
            "EMPLOYER_SIGNATORY" => (
                "Жұмыс беруші атынан қол қою құқығы бар тұлға",
                "Лицо с правом подписи работодателя",
            ),
            "EMPLOYER_INDIVIDUAL" => (
                "Жұмыс беруші – жеке тұлға",
                "Работодатель – физическое лицо",
            ),
            "REGIONAL_BODY_HEAD" => (
                "Жергілікті атқарушы органның басшысы",
                "Руководитель местного исполнительного органа",
            ),
            "REGIONAL_BODY_SIGNATORY" => (
                "Жергілікті атқарушы орган атынан қол қою құқығы бар тұлға",
                "Лицо с правом подписи местного исполнительного органа",
            ),
            "MINISTRY_HEAD" => ("Министр", "Министр"),
            "MINISTRY_SIGNATORY" => (
                "Министрлік атынан қол қою құқығы бар тұлға",
                "Лицо с правом подписи министерства",
            ),
            _ => ("Қол қоюшы", "Подписант"),
        };
        match self.lang {
            Lang::Kk => kk,
            Lang::Ru => ru,
        }
    }

    /// Why a signature did not pass, in words a person understands.
    pub fn sub_indication(&self, s: SubIndication) -> &'static str {
        use SubIndication as S;
        let (kk, ru) = match s {
            S::FormatFailure => (
                "қолтаңба немесе файл бүлінген, оны оқу мүмкін емес",
                "подпись или файл повреждены, их нельзя прочитать",
            ),
            S::HashFailure => (
                "файл қол қойылғаннан кейін өзгертілген",
                "файл изменён после подписания",
            ),
            S::SigCryptoFailure => (
                "қолтаңба қол қоюшының кілтімен расталмайды",
                "подпись не подтверждается ключом подписанта",
            ),
            S::Revoked => (
                "қол қоюшының сертификаты кері қайтарып алынған",
                "сертификат подписанта отозван",
            ),
            S::OutOfBoundsNoPoe => (
                "сертификаттың қолданылу мерзімі өткен, ал қол қою уақыты дәлелденбеген",
                "срок действия сертификата истёк, а время подписи не подтверждено",
            ),
            S::TryLater => (
                "сертификаттың кері қайтарылуын қазір тексеру мүмкін емес, кейінірек қайталаңыз",
                "отзыв сертификата сейчас проверить нельзя, повторите позже",
            ),
            S::CertificateChainGeneralFailure => (
                "сертификаттар тізбегін тексеру мүмкін болмады",
                "цепочку сертификатов проверить не удалось",
            ),
            S::NoCertificateChainFound => (
                "сертификатты сенімді куәландырушы орталық бермеген",
                "сертификат выдан не доверенным удостоверяющим центром",
            ),
            S::SigConstraintsFailure => (
                "сертификат қол қоюға арналмаған",
                "сертификат не предназначен для подписи",
            ),
        };
        match self.lang {
            Lang::Kk => kk,
            Lang::Ru => ru,
        }
    }
}

pub static KK: Words = Words {
    lang: Lang::Kk,
    site: "Шетелдік жұмыс күшін тартуға арналған квота",
    ministry: "Қазақстан Республикасы Еңбек және халықты әлеуметтік қорғау министрлігі",
    nav_decisions: "Квота туралы шешімдер",
    nav_verify: "Құжатты тексеру",
    language: "Тіл",
    skip: "Негізгі мазмұнға өту",
    decisions_title: "Квота туралы жарияланған шешімдер",
    decisions_intro: "Министрлік квота туралы шешімді белгіленгеннен кейін үш жұмыс күні ішінде өзінің ресми интернет-ресурсында орналастырады (Қағидалардың 19-тармағы). Әрбір қайта бөлу шешімнің жаңа редакциясы болып табылады (21-тармақ).",
    no_decisions: "Әзірге жарияланған шешімдер жоқ.",
    quota_years: "Квота жылы",
    version: "Редакция",
    published: "Жарияланған күні",
    on_time: "мерзімінде жарияланды",
    late: "мерзімі өткеннен кейін жарияланды",
    due: "мерзімі",
    first_version: "бастапқы шешім",
    redistribution: "қайта бөлу",
    latest: "соңғы редакция",
    decision_title: "Квота туралы шешім",
    order: "Бұйрық",
    order_of: "№",
    parts: "Квотаның бөліктері",
    part: "Бөлік",
    percent: "Жұмыс күшінің пайызы",
    ceiling: "Шекті мөлшері",
    requested: "Сұралғаны",
    allocated: "Бөлінгені",
    reserve: "Министрліктің резерві",
    region: "Өңір",
    category: "Санат",
    country: "Ел",
    granted: "Квота, адам",
    total: "Барлығы",
    part_permits: "Жұмысқа орналасуға рұқсаттар",
    part_countries: "Шығу елдері бойынша квота",
    part_immigrants: "Еңбек иммигранттары",
    categories: ["1-санат", "2-санат", "3-санат", "4-санат", "маусымдық"],
    moves: "Осы редакцияның қайта бөлулері",
    move_from: "Қайдан",
    move_to: "Қайда",
    count: "Саны",
    basis: "Негіздеме",
    from_reserve: "министрліктің резерві",
    downloads: "Жүктеп алу",
    download_pdf: "Шешім (PDF, электрондық мөрмен)",
    download_cms: "Бөлек қолтаңба (CMS)",
    download_csv: "Сандар (CSV)",
    download_json: "Сандар (JSON)",
    verify_link: "Құжаттың түпнұсқалығын тексеру",
    other_versions: "Барлық редакциялар",
    doc_title: "Құжатты тексеру",
    title_label: "Атауы",
    issued_document: "Осы кодпен берілген құжат",
    doc_kind: "Құжат түрі",
    doc_number: "Құжаттың сәйкестендіргіші",
    doc_issued: "Берілген уақыты",
    doc_sha256: "SHA-256",
    doc_size: "Көлемі",
    bytes: "байт",
    doc_checked: "Қолтаңбалар тексерілген уақыт",
    not_public: "Бұл құжат жария емес: оның мазмұны көрсетілмейді, тек түпнұсқалығы туралы мәліметтер беріледі.",
    signatures: "Қолтаңбалар",
    signer: "Қол қоюшы",
    organisation: "Ұйым",
    bin: "БСН",
    iin: "ЖСН",
    role: "Рөлі",
    signing_time: "Қол қойылған уақыты",
    timestamp_time: "Уақыт белгісі",
    level: "Қолтаңба деңгейі",
    result: "Нәтиже",
    why: "Себебі",
    embedded: "PDF ішіндегі қолтаңба",
    detached: "Бөлек қолтаңба (CMS)",
    document_timestamp: "Құжаттың уақыт белгісі (PAdES B-LTA)",
    holds: "Жарамды",
    fails: "Жарамсыз",
    undecided: "Анықталмаған",
    all_hold: "Құжаттың барлық қолтаңбасы жарамды.",
    not_all_hold: "Құжаттың барлық қолтаңбасы бірдей жарамды емес.",
    superseded_by: "Бұл құжаттың орнына кейінгі құжат берілген",
    withdrawn: "Жұмыс беруші өтінішті кері қайтарып алды.",
    current: "Бұл құжат күшінде: оның орнына басқа құжат берілмеген.",
    check_file: "Қолыңыздағы файлды тексеру",
    check_file_help: "PDF файлын (қажет болса, бөлек CMS қолтаңбасын да) таңдаңыз: сервер оны осы кодпен берілген құжатпен салыстырып, әрбір қолтаңбаны тексереді. Файл сақталмайды. Ең көбі 20 МБ.",
    pdf_file: "PDF файлы",
    cms_file: "CMS қолтаңбасы (міндетті емес)",
    check_button: "Тексеру",
    verify_title: "Құжатты тексеру",
    verify_intro: "QR-кодтағы кодты енгізіңіз немесе PDF файлын жүктеңіз: сервер оның Kvota берген құжат екенін және әрбір қолтаңбаның жарамдылығын тексереді.",
    code_label: "Құжат коды",
    open_code: "Ашу",
    same_bytes: "Бұл файл осы кодпен берілген құжатпен дәл сәйкес келеді.",
    other_bytes: "Бұл файл осы кодпен берілген құжат ЕМЕС: мазмұны басқа.",
    issued_as: "Бұл файлды Kvota берген:",
    not_issued: "Бұл файлды Kvota бермеген немесе ол берілгеннен кейін өзгертілген.",
    no_signatures: "Файлда қолтаңба табылмады.",
    not_a_pdf: "Бұл файл PDF емес.",
    too_large: "Файл тым үлкен: ең көбі 20 МБ.",
    busy: "Сервер қазір басқа файлдарды тексеріп жатыр. Бірнеше секундтан кейін қайталаңыз.",
    not_found_title: "Бет табылмады",
    not_found: "Мұндай бет немесе мұндай кодпен құжат жоқ. Кодты QR-кодтағы мекенжаймен салыстырыңыз.",
    back_home: "Басты бетке",
    dash: "—",
};

pub static RU: Words = Words {
    lang: Lang::Ru,
    site: "Квота на привлечение иностранной рабочей силы",
    ministry: "Министерство труда и социальной защиты населения Республики Казахстан",
    nav_decisions: "Решения о квоте",
    nav_verify: "Проверить документ",
    language: "Язык",
    skip: "Перейти к основному содержанию",
    decisions_title: "Опубликованные решения о квоте",
    decisions_intro: "Министерство размещает решение о квоте на своём официальном интернет-ресурсе в течение трёх рабочих дней после её установления (пункт 19 Правил). Каждое перераспределение — новая редакция решения (пункт 21).",
    no_decisions: "Опубликованных решений пока нет.",
    quota_years: "Год квоты",
    version: "Редакция",
    published: "Опубликовано",
    on_time: "опубликовано в срок",
    late: "опубликовано с опозданием",
    due: "срок",
    first_version: "первоначальное решение",
    redistribution: "перераспределение",
    latest: "последняя редакция",
    decision_title: "Решение о квоте",
    order: "Приказ",
    order_of: "№",
    parts: "Части квоты",
    part: "Часть",
    percent: "Процент от рабочей силы",
    ceiling: "Предельный размер",
    requested: "Запрошено",
    allocated: "Распределено",
    reserve: "Резерв министерства",
    region: "Регион",
    category: "Категория",
    country: "Страна",
    granted: "Квота, человек",
    total: "Итого",
    part_permits: "Разрешения на трудоустройство",
    part_countries: "Квота по странам происхождения",
    part_immigrants: "Трудовые иммигранты",
    categories: [
        "1 категория",
        "2 категория",
        "3 категория",
        "4 категория",
        "сезонные",
    ],
    moves: "Перераспределения этой редакции",
    move_from: "Откуда",
    move_to: "Куда",
    count: "Количество",
    basis: "Основание",
    from_reserve: "резерв министерства",
    downloads: "Скачать",
    download_pdf: "Решение (PDF с электронной печатью)",
    download_cms: "Открепленная подпись (CMS)",
    download_csv: "Цифры (CSV)",
    download_json: "Цифры (JSON)",
    verify_link: "Проверить подлинность документа",
    other_versions: "Все редакции",
    doc_title: "Проверка документа",
    title_label: "Наименование",
    issued_document: "Документ, выданный под этим кодом",
    doc_kind: "Вид документа",
    doc_number: "Идентификатор документа",
    doc_issued: "Время выдачи",
    doc_sha256: "SHA-256",
    doc_size: "Размер",
    bytes: "байт",
    doc_checked: "Подписи проверены",
    not_public: "Этот документ не публичный: его содержание не показывается, только сведения о его подлинности.",
    signatures: "Подписи",
    signer: "Подписант",
    organisation: "Организация",
    bin: "БИН",
    iin: "ИИН",
    role: "Роль",
    signing_time: "Время подписи",
    timestamp_time: "Метка времени",
    level: "Уровень подписи",
    result: "Результат",
    why: "Причина",
    embedded: "Подпись в PDF",
    detached: "Открепленная подпись (CMS)",
    document_timestamp: "Метка времени документа (PAdES B-LTA)",
    holds: "Действительна",
    fails: "Недействительна",
    undecided: "Не определено",
    all_hold: "Все подписи документа действительны.",
    not_all_hold: "Не все подписи документа действительны.",
    superseded_by: "Вместо этого документа выдан более поздний",
    withdrawn: "Работодатель отозвал заявку.",
    current: "Документ действует: другой документ вместо него не выдавался.",
    check_file: "Проверить файл, который у вас на руках",
    check_file_help: "Выберите PDF-файл (и, если есть, открепленную подпись CMS): сервер сравнит его с документом, выданным под этим кодом, и проверит каждую подпись. Файл не сохраняется. Не более 20 МБ.",
    pdf_file: "PDF-файл",
    cms_file: "Подпись CMS (необязательно)",
    check_button: "Проверить",
    verify_title: "Проверка документа",
    verify_intro: "Введите код из QR-кода или загрузите PDF-файл: сервер проверит, выдан ли он сервисом Kvota и действительна ли каждая подпись.",
    code_label: "Код документа",
    open_code: "Открыть",
    same_bytes: "Этот файл в точности совпадает с документом, выданным под этим кодом.",
    other_bytes: "Этот файл НЕ является документом, выданным под этим кодом: его содержимое другое.",
    issued_as: "Этот файл выдан сервисом Kvota:",
    not_issued: "Этот файл не выдавался сервисом Kvota или изменён после выдачи.",
    no_signatures: "В файле не найдено подписей.",
    not_a_pdf: "Этот файл не является PDF.",
    too_large: "Файл слишком большой: не более 20 МБ.",
    busy: "Сервер сейчас проверяет другие файлы. Повторите через несколько секунд.",
    not_found_title: "Страница не найдена",
    not_found: "Такой страницы или документа с таким кодом нет. Сверьте код с адресом в QR-коде.",
    back_home: "На главную",
    dash: "—",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_then_accept_language_by_weight_then_kazakh() {
        assert_eq!(Lang::negotiate(Some("ru"), Some("kk")), Lang::Ru);
        assert_eq!(
            Lang::negotiate(Some("xx"), Some("ru-RU,ru;q=0.9")),
            Lang::Ru
        );
        assert_eq!(
            Lang::negotiate(None, Some("en-US,en;q=0.9,ru;q=0.5,kk;q=0.8")),
            Lang::Kk
        );
        assert_eq!(Lang::negotiate(None, Some("en-US,ru;q=0")), Lang::Kk);
        assert_eq!(Lang::negotiate(None, None), Lang::Kk);
        assert_eq!(Lang::negotiate(None, Some("kk-KZ")), Lang::Kk);
    }

    #[test]
    fn every_sub_indication_has_words_in_both_languages() {
        use SubIndication as S;
        for s in [
            S::FormatFailure,
            S::HashFailure,
            S::SigCryptoFailure,
            S::Revoked,
            S::OutOfBoundsNoPoe,
            S::TryLater,
            S::CertificateChainGeneralFailure,
            S::NoCertificateChainFound,
            S::SigConstraintsFailure,
        ] {
            let (kk, ru) = (KK.sub_indication(s), RU.sub_indication(s));
            assert!(!kk.is_empty() && !ru.is_empty() && kk != ru, "{s:?}");
        }
    }
}

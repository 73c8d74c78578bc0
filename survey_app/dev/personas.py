"""Synthetic fellows who answer like real ones: a country, a role, the platforms people there use.

Each fellow is drawn once (a Persona) and leans towards the options that fit them: WeChat for
fellows in China, WhatsApp across Africa, South Asia, the Middle East and Latin America,
VKontakte and Telegram in Russia and Central Asia, Facebook nearly everywhere outside China. The
habits are rough shares of fellows using each platform at least monthly, from public usage
surveys (DataReportal 2024 and the like), not measurements of the ITP network.

Options are recognised by their codes (the bundled survey's: `wechat`, `whatsapp_groups`,
`curator`, `daily` …); a question whose codes mean nothing here is answered by its type alone.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..questions.base import RandomSource
from ..regions import region_of

# Share of fellows in a region who use each platform at least once a month.
HABITS: dict[str, dict[str, float]] = {
    "china": {"wechat": 0.96, "weibo": 0.55, "linkedin": 0.12, "youtube": 0.08, "facebook": 0.06,
              "instagram": 0.06, "twitter": 0.06, "whatsapp": 0.05, "tiktok": 0.04, "telegram": 0.02},
    "east_asia": {"facebook": 0.55, "instagram": 0.55, "youtube": 0.7, "twitter": 0.45, "linkedin": 0.25,
                  "whatsapp": 0.2, "tiktok": 0.25, "wechat": 0.08, "telegram": 0.05},
    "south_east_asia": {"facebook": 0.88, "youtube": 0.7, "instagram": 0.5, "whatsapp": 0.4, "tiktok": 0.4,
                        "linkedin": 0.3, "twitter": 0.25, "telegram": 0.15, "wechat": 0.05},
    "south_asia": {"whatsapp": 0.9, "facebook": 0.75, "youtube": 0.65, "instagram": 0.5, "linkedin": 0.45,
                   "twitter": 0.35, "telegram": 0.12, "tiktok": 0.1, "wechat": 0.02},
    "mena": {"whatsapp": 0.88, "facebook": 0.8, "youtube": 0.6, "instagram": 0.55, "twitter": 0.38,
             "linkedin": 0.3, "telegram": 0.3, "tiktok": 0.25, "wechat": 0.02},
    "sub_saharan_africa": {"whatsapp": 0.9, "facebook": 0.8, "youtube": 0.5, "linkedin": 0.42, "twitter": 0.4,
                           "instagram": 0.4, "tiktok": 0.22, "telegram": 0.1, "wechat": 0.02},
    "latin_america": {"whatsapp": 0.92, "facebook": 0.75, "instagram": 0.65, "youtube": 0.6, "linkedin": 0.3,
                      "twitter": 0.3, "tiktok": 0.3, "telegram": 0.1, "wechat": 0.01},
    "russian": {"telegram": 0.82, "vkontakte": 0.72, "whatsapp": 0.55, "youtube": 0.55, "instagram": 0.3,
                "facebook": 0.15, "linkedin": 0.1, "twitter": 0.08, "tiktok": 0.15, "wechat": 0.02},
    "europe": {"facebook": 0.72, "whatsapp": 0.65, "instagram": 0.55, "youtube": 0.55, "linkedin": 0.45,
               "twitter": 0.3, "tiktok": 0.15, "telegram": 0.15, "wechat": 0.01},
}
# Where HABITS differ from the country's region (regions.py): Russian-speaking countries share habits.
HABIT_GROUP = {"CN": "china", "RU": "russian", "BY": "russian", "KZ": "russian", "UZ": "russian",
               "KG": "russian", "TJ": "russian", "central_asia": "russian", "north_america": "europe",
               "oceania": "europe", "other": "europe"}
# Platforms fellows write in under "Other", by habit group.
OTHER_PLATFORMS: dict[str, tuple[str, ...]] = {
    "china": ("Xiaohongshu", "Douyin", "QQ", "Bilibili"),
    "east_asia": ("LINE", "KakaoTalk", "Threads"),
    "south_east_asia": ("LINE", "Zalo", "Viber"),
    "russian": ("Odnoklassniki", "Rutube", "Viber"),
    "europe": ("Viber", "Signal", "Mastodon", "Bluesky", "Threads"),
}
OTHER_PLATFORMS_ANYWHERE = ("Signal", "Threads", "Bluesky", "Mastodon")
# Share of fellows in a group who use a platform of OTHER_PLATFORMS (LINE in Thailand and Japan, Zalo in Viet Nam).
OTHER_PLATFORM_SHARE = {"china": 0.35, "east_asia": 0.6, "south_east_asia": 0.5, "russian": 0.25, "europe": 0.15}

# The bundled survey's codes for platforms, and for channels that live on one.
PLATFORM_OF = {code: code for code in ("facebook", "instagram", "twitter", "wechat", "whatsapp", "linkedin",
                                       "youtube", "tiktok", "weibo", "vkontakte", "telegram")}
PLATFORM_OF.update({"fb_group": "facebook", "wechat_group": "wechat", "whatsapp_groups": "whatsapp"})
# How often a fellow who uses a platform (or does not) uses it for work: option code -> leaning.
FREQUENCY_IF_USED = {"daily": 3.0, "weekly": 3.0, "monthly": 1.5, "rarely": 0.5, "never": 0.05}
FREQUENCY_IF_NOT = {"daily": 0.02, "weekly": 0.03, "monthly": 0.1, "rarely": 1.0, "never": 6.0}

# Roles, roughly as many fellows hold them (museum curators and conservators most of all).
ROLES: tuple[tuple[str, float], ...] = (
    ("curator", 0.27), ("conservator", 0.15), ("educator", 0.12), ("director", 0.11), ("collections", 0.1),
    ("researcher", 0.09), ("digital", 0.07), ("other", 0.09),
)
# Real roles a fellow writes under "Other", in the languages they may answer in.
OTHER_ROLES: dict[str, tuple[str, ...]] = {
    "en": ("Archaeologist", "Archivist", "Museum librarian", "Heritage site manager", "Exhibition designer",
           "Collections photographer", "Heritage officer at the ministry of culture"),
    "fr": ("Archéologue", "Archiviste", "Bibliothécaire de musée", "Gestionnaire de site patrimonial",
           "Scénographe d’expositions"),
    "es": ("Arqueóloga", "Archivero", "Bibliotecaria de museo", "Gestor de sitio patrimonial",
           "Diseñadora de exposiciones"),
    "ar": ("عالم آثار", "أمين أرشيف", "أمينة مكتبة المتحف", "مدير موقع تراثي", "مصمم معارض"),
    "zh": ("考古研究员", "档案管理员", "博物馆图书管理员", "遗址管理人员", "展览设计师"),
    "ru": ("Археолог", "Архивист", "Библиотекарь музея", "Руководитель объекта наследия", "Дизайнер выставок"),
}
ROLE_CODES = frozenset(code for code, _share in ROLES)

# Free text that answers the bundled survey's two open questions, per language; a handful begin as
# people do type ("@britmusITP …", "+1 …", "=> …", "- …") and so exercise the exports' formula guard.
FREE_TEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "other_platforms": {
        "en": ("LinkedIn, for professional news and job posts.", "A YouTube channel with the recorded sessions.",
               "Signal groups, for colleagues who avoid WhatsApp.", "Bluesky or Mastodon, now that many museums "
               "have left X.", "A podcast we could listen to on the way to work.",
               "@britmusITP on Instagram is where I see ITP news first; more stories there, please."),
        "fr": ("LinkedIn, pour les nouvelles professionnelles.", "Une chaîne YouTube avec les séances enregistrées.",
               "Un groupe WhatsApp pour les boursiers francophones d’Afrique de l’Ouest."),
        "es": ("LinkedIn, para noticias profesionales.", "Un canal de YouTube con las sesiones grabadas.",
               "Instagram en español, con más contenido de América Latina."),
        "ar": ("تيليغرام، لأن مجموعات واتساب محدودة العدد.", "قناة على يوتيوب للمحاضرات المسجلة.",
               "لينكدإن للأخبار المهنية وفرص العمل."),
        "zh": ("可以考虑小红书，很多年轻的博物馆同行在用。", "建议开通微信视频号，方便分享讲座录像。",
               "B站适合发布文物修复的视频。"),
        "ru": ("Telegram-канал был бы удобнее всего.", "Стоит попробовать ВКонтакте для русскоязычных коллег.",
               "YouTube-канал с записями лекций."),
        "el": ("Ένα κανάλι στο YouTube με τις ηχογραφημένες συναντήσεις.",),
        "pt": ("Um canal no YouTube com as sessões gravadas.", "LinkedIn, para notícias profissionais."),
        "tr": ("Kayıtlı oturumlar için bir YouTube kanalı.",),
        "hi": ("रिकॉर्ड किए गए सत्रों के लिए एक यूट्यूब चैनल।",),
    },
    "suggestions": {
        "en": ("More live sessions on preventive conservation, please.", "Please share recordings for those in "
               "other time zones.", "Regional online meet-ups, so fellows near each other can plan visits.",
               "A monthly newsletter would help me keep up.", "Sessions on digitising collections on a small budget.",
               "+1 for subtitles on the recorded sessions.", "=> Mentoring between older and newer cohorts.",
               "- Subtitles in Arabic and French on the recordings."),
        "fr": ("Davantage de séances en direct sur la conservation préventive.", "Merci de partager les "
               "enregistrements pour les autres fuseaux horaires.", "Des rencontres régionales en ligne."),
        "es": ("Más sesiones en español serían muy útiles.", "Compartan las grabaciones para quienes estamos en "
               "otros husos horarios.", "Encuentros regionales en línea entre becarios."),
        "ar": ("نرجو تنظيم المزيد من الجلسات المباشرة حول الحفظ الوقائي.", "أتمنى نشرة شهرية باللغة العربية.",
               "لقاءات إقليمية عبر الإنترنت بين الزملاء."),
        "zh": ("希望有更多关于藏品保护的在线讲座。", "请在微信群里分享活动录像。",
               "希望组织更多区域性的线上交流活动。"),
        "ru": ("Хотелось бы больше онлайн-семинаров по хранению коллекций.", "Пожалуйста, выкладывайте записи "
               "для тех, кто в других часовых поясах.", "Региональные онлайн-встречи стипендиатов."),
        "el": ("Θα ήθελα περισσότερες διαδικτυακές συναντήσεις.", "Μια μηνιαία ενημέρωση θα ήταν χρήσιμη."),
        "pt": ("Mais sessões ao vivo sobre conservação preventiva, por favor.",),
        "tr": ("Önleyici koruma üzerine daha fazla canlı oturum lütfen.",),
        "hi": ("कृपया संरक्षण पर और अधिक ऑनलाइन सत्र आयोजित करें।", "मासिक समाचार पत्र बहुत उपयोगी होगा।"),
    },
}
# Any other open question: a short answer that fits most.
GENERAL_TEXT = {"en": ("Nothing to add, thank you.", "Thank you for keeping the network together."),
                "fr": ("Rien à ajouter, merci.",), "es": ("Nada más, gracias.",), "ar": ("لا شيء أضيفه، شكرًا.",),
                "zh": ("没有其他意见，谢谢。",), "ru": ("Больше нечего добавить, спасибо.",)}
# Share of fellows who answer in the survey's language yet write free text in their own, not offered, one.
OWN_LANGUAGE_TEXT = 0.1


def habit_group(country: str) -> str:
    """The HABITS key for a country: its own, its region's, or Europe's for the few fellows elsewhere."""
    if country in HABIT_GROUP:
        return HABIT_GROUP[country]
    region = region_of(country) or "other"
    group = HABIT_GROUP.get(region, region)
    return group if group in HABITS else "europe"


@dataclass(frozen=True)
class Persona:
    """One synthetic fellow: where they work, the language they answer in, their role and platforms."""

    country: str
    language: str          # the survey language they answer in
    own_language: str      # their usual language, which the survey may not offer
    role: str
    role_other: str | None
    platforms: frozenset[str]
    favourite: str | None  # the platform they would keep in touch on: one of theirs, or "other"
    other_platform: str | None

    def leaning(self, kind: str, item: str, option: str) -> float:
        """How much likelier this fellow picks an option of a question of this kind ("role", "platforms")."""
        if kind == "role":
            return 50.0 if option == self.role else 0.02
        if kind != "platforms":
            return 1.0
        if item in PLATFORM_OF and option in FREQUENCY_IF_USED:  # a grid: how often they use a platform
            used = PLATFORM_OF[item] in self.platforms
            return (FREQUENCY_IF_USED if used else FREQUENCY_IF_NOT)[option]
        code = option or item  # a choice's option, or a ranked item
        if code == "none":  # "None of these": for those who use none of the platforms listed
            return 0.1 if self.platforms else 14.0
        if code in PLATFORM_OF:
            platform = PLATFORM_OF[code]
            return 30.0 if platform == self.favourite else 6.0 if platform in self.platforms else 0.03
        if code == "other":
            return 30.0 if self.favourite == "other" else 3.0 if self.other_platform else 0.05
        return 1.0

    def write_in(self, rng: RandomSource, kind: str) -> str:
        """What they type in an "Other" box."""
        if kind == "role" and self.role_other:
            return self.role_other
        return self.other_platform or rng.choice(OTHER_PLATFORMS_ANYWHERE)

    def free_text(self, rng: RandomSource, question_code: str) -> str:
        """An answer to an open question, mostly in the language they answer in."""
        pools = FREE_TEXT.get(question_code, GENERAL_TEXT)
        language = self.language
        if self.own_language != language and self.own_language in pools and rng.random() < OWN_LANGUAGE_TEXT:
            language = self.own_language
        return rng.choice(pools.get(language) or pools["en"])


def question_kind(codes: Sequence[str]) -> str:
    """"role" or "platforms" when a question's option and row codes say so, else "" (answered by its type)."""
    found = set(codes)
    if len(found & ROLE_CODES) >= 3:
        return "role"
    if len(found & set(PLATFORM_OF)) >= 3:
        return "platforms"
    return ""


def draw_persona(rng: RandomSource, country: str, language: str, own_language: str) -> Persona:
    """Draw a fellow's role and platforms from the habits of where they work."""
    group = habit_group(country)
    habits = HABITS[group]
    platforms = frozenset(p for p, share in habits.items() if rng.random() < share)
    used = sorted(platforms)
    favourite = rng.choices(used, [habits[p] ** 2 for p in used])[0] if used else None
    role = rng.choices([code for code, _share in ROLES], [share for _code, share in ROLES])[0]
    role_other = rng.choice(OTHER_ROLES.get(language) or OTHER_ROLES["en"]) if role == "other" else None
    # Where a platform the survey does not list is common (LINE, KakaoTalk, Xiaohongshu …), many fellows
    # use one; elsewhere a few use Signal or the like. Some of them like it best.
    if group in OTHER_PLATFORMS:
        names = OTHER_PLATFORMS[group]  # the first is the most used
        chance = OTHER_PLATFORM_SHARE.get(group, 0.25)
        other_platform = rng.choices(names, [1 / (i + 1) for i in range(len(names))])[0] if rng.random() < chance \
            else None
    else:
        other_platform = rng.choice(OTHER_PLATFORMS_ANYWHERE) if rng.random() < 0.08 else None
    if other_platform and rng.random() < 0.5:
        favourite = "other"
    return Persona(country=country, language=language, own_language=own_language, role=role,
                   role_other=role_other, platforms=platforms, favourite=favourite, other_platform=other_platform)

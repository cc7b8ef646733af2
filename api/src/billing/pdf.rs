//! An invoice as an A4 PDF, made in-process with `pdf-writer`: nothing to ship (the two fonts are
//! the standard Type 1 Helvetica and Helvetica-Bold every PDF reader has, in WinAnsiEncoding) and
//! a real text layer (`pdftotext` reads the number, the lines and the totals back).
//!
//! The page: the seller top left, the title (INVOICE, or DRAFT INVOICE before it is numbered),
//! number, dates and status top right, a rule, the buyer ("Bill to") beside an "Amount due" box,
//! the table of lines (descriptions wrapped, the billing period under each, numbers right-aligned;
//! the header band repeats on every page the table runs onto), the totals (subtotal, discount, a
//! line per tax, total, paid, balance due), the reverse-charge note, the payments received and,
//! while something is owed, how to pay. Every page has a "Page n of m" footer.
//!
//! A credit note ([`render_credit_note`]) is drawn in the same layout from the same model
//! (`Sheet`, built from either document): CREDIT NOTE, its number and date, the invoice it credits
//! and that invoice's date, the seller and buyer as the invoice froze them ("Credit to"), the
//! amount credited, one line "Refund: <reason>" split into net and tax as the invoice's, the
//! totals, the reverse-charge note when the invoice had one, and the refund it documents.
//!
//! Text is encoded to WinAnsi (Windows-1252): characters outside it print as '?', and money in a
//! currency whose symbol it lacks (₹, ₩ …) is written with the ISO code instead (`INR 12.00`).
//! Right-aligned text is measured with the fonts' Adobe metrics (`HELVETICA`, `HELVETICA_BOLD`).
//!
//! [`bench()`] measures PDFs per second for a 10-line invoice.

use std::time::Instant;

use std::borrow::Cow;

use chrono::{DateTime, Datelike as _, NaiveDate, TimeZone as _, Timelike as _, Utc};
use keel_shared::billing::{CreditNote, Gateway, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Party, Payment};
use keel_shared::cart::TaxLine;
use keel_shared::money::{Currency, Money};
use pdf_writer::{Content, Date, Finish as _, Name, Pdf, Rect, Ref, Str, TextStr};

use super::credit_note::Credited;

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 56.0;
const RIGHT: f32 = PAGE_W - 56.0;
const TOP: f32 = PAGE_H - 56.0;
/// Nothing but the footer goes below this.
const BOTTOM: f32 = 62.0;
const FOOTER_Y: f32 = 36.0;

type Rgb = [f32; 3];
const INK: Rgb = [0.11, 0.13, 0.16];
const MUTED: Rgb = [0.42, 0.45, 0.50];
const ACCENT: Rgb = [0.10, 0.22, 0.38];
const RULE: Rgb = [0.78, 0.80, 0.83];
const HAIRLINE: Rgb = [0.88, 0.89, 0.91];
const BAND: Rgb = [0.945, 0.95, 0.96];
const GREEN: Rgb = [0.08, 0.50, 0.26];
const RED: Rgb = [0.76, 0.15, 0.15];
const AMBER: Rgb = [0.78, 0.45, 0.02];

/// Table body text.
const BODY: f32 = 9.0;
/// Small capitals of headings and the table header.
const LABEL: f32 = 7.5;

/// The invoice as a PDF document.
pub fn render(inv: &Invoice) -> Vec<u8> {
    draw(&Sheet::invoice(inv))
}

/// A credit note of `inv` as a PDF document, in the invoice's layout: its number and date, the
/// invoice it credits, the seller and buyer as the invoice froze them, one refund line with the
/// amount split into net and tax as the invoice's (`credit_note::split`), the totals and the
/// reverse-charge note when the invoice had one.
pub fn render_credit_note(inv: &Invoice, note: &CreditNote) -> Vec<u8> {
    draw(&Sheet::credit_note(&Credited::new(inv, note)))
}

/// The pages of a sheet, with their fonts and the document's information.
fn draw(sheet: &Sheet) -> Vec<u8> {
    let mut w = Writer::new(sheet);
    w.header();
    w.parties();
    w.lines();
    w.totals();
    w.notes();
    let pages = w.finish();

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let ids: Vec<(Ref, Ref)> = (0..pages.len()).map(|i| (Ref::new(6 + 2 * i as i32), Ref::new(7 + 2 * i as i32))).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(ids.iter().map(|(page, _)| *page)).count(ids.len() as i32);
    for (content, (page_id, content_id)) in pages.into_iter().zip(&ids) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(*content_id);
        page.resources().fonts().pair(Font::Regular.resource(), regular).pair(Font::Bold.resource(), bold);
        page.finish();
        pdf.stream(*content_id, &content.finish());
    }
    for (id, font) in [(regular, Font::Regular), (bold, Font::Bold)] {
        pdf.type1_font(id).base_font(Name(font.base_font())).encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info)
        .title(TextStr(&sheet.name))
        .author(TextStr(party_name(sheet.seller)))
        .creator(TextStr("Keel"))
        .producer(TextStr("Keel (pdf-writer)"))
        .creation_date(pdf_date(sheet.created));
    pdf.finish()
}

/// PDFs per second, rendering a 10-line invoice `n` times.
pub fn bench(n: usize) -> f64 {
    let inv = sample_invoice(10);
    let start = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..n {
        bytes += std::hint::black_box(render(std::hint::black_box(&inv))).len();
    }
    let secs = start.elapsed().as_secs_f64();
    std::hint::black_box(bytes);
    if secs > 0.0 {
        n as f64 / secs
    } else {
        f64::INFINITY
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }

    fn base_font(self) -> &'static [u8] {
        match self {
            Font::Regular => b"Helvetica",
            Font::Bold => b"Helvetica-Bold",
        }
    }

    fn widths(self) -> &'static [u16; 224] {
        match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
        }
    }
}

/// The width of WinAnsi-encoded text in 1/1000 em.
fn units(text: &[u8], font: Font) -> u32 {
    let widths = font.widths();
    text.iter().map(|&b| if b >= 32 { u32::from(widths[usize::from(b - 32)]) } else { 0 }).sum()
}

/// The width of WinAnsi-encoded text in points.
fn width(text: &[u8], font: Font, size: f32) -> f32 {
    units(text, font) as f32 * size / 1000.0
}

/// The WinAnsiEncoding (Windows-1252) byte of a character, if it has one.
fn win_ansi(c: char) -> Option<u8> {
    let u = u32::from(c);
    if (0x20..=0x7E).contains(&u) || (0xA0..=0xFF).contains(&u) {
        return u8::try_from(u).ok();
    }
    Some(match c {
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => return None,
    })
}

/// Text as WinAnsi bytes: control characters become spaces, what the encoding lacks '?'.
fn encode(s: &str) -> Vec<u8> {
    s.chars().map(|c| if c.is_control() { b' ' } else { win_ansi(c).unwrap_or(b'?') }).collect()
}

/// Text broken into lines no wider than `max` points: at spaces, inside a word only when the
/// word alone is too wide. Line breaks in the text are kept (a blank line too).
fn wrap(text: &str, font: Font, size: f32, max: f32) -> Vec<Vec<u8>> {
    // In whole font units, so that what fits is exact.
    let max = (max.max(0.0) * 1000.0 / size) as u32;
    let space = units(b" ", font);
    let mut out = Vec::new();
    for para in text.lines() {
        let mut line: Vec<u8> = Vec::new();
        let mut line_w = 0;
        for word in para.split_whitespace() {
            let mut word = encode(word);
            let mut word_w = units(&word, font);
            if !line.is_empty() && line_w + space + word_w <= max {
                line.push(b' ');
                line.extend_from_slice(&word);
                line_w += space + word_w;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            while word_w > max && word.len() > 1 {
                let mut w = 0;
                let mut cut = 0;
                while cut < word.len() && w + units(&word[cut..=cut], font) <= max {
                    w += units(&word[cut..=cut], font);
                    cut += 1;
                }
                let rest = word.split_off(cut.max(1));
                out.push(std::mem::replace(&mut word, rest));
                word_w = units(&word, font);
            }
            line = word;
            line_w = word_w;
        }
        out.push(line);
    }
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

/// Text cut to `max` points, ending in an ellipsis when cut.
fn ellipsize(text: &str, font: Font, size: f32, max: f32) -> Vec<u8> {
    let mut bytes = encode(text);
    if width(&bytes, font, size) <= max {
        return bytes;
    }
    let room = max - width(&[0x85], font, size);
    while !bytes.is_empty() && width(&bytes, font, size) > room {
        bytes.pop();
    }
    bytes.push(0x85);
    bytes
}

/// An amount as keel_shared displays it (`€12.00`), with the ISO code for a symbol WinAnsi lacks
/// (`INR 12.00`).
fn money(minor: i64, currency: Currency) -> String {
    let s = Money::new(minor, currency).to_string();
    let symbol = currency.symbol();
    if symbol.chars().all(|c| win_ansi(c).is_some()) {
        s
    } else {
        s.replacen(symbol, &format!("{} ", currency.code()), 1)
    }
}

fn date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

fn pdf_date(at: DateTime<Utc>) -> Date {
    let n = |v: u32| u8::try_from(v).unwrap_or(0);
    Date::new(u16::try_from(at.year()).unwrap_or(2000))
        .month(n(at.month()))
        .day(n(at.day()))
        .hour(n(at.hour()))
        .minute(n(at.minute()))
        .second(n(at.second()))
}

/// Basis points as a percentage: 2000 → "20", 1950 → "19.5", 725 → "7.25".
fn percent(bp: u32) -> String {
    match bp % 100 {
        0 => format!("{}", bp / 100),
        f if f % 10 == 0 => format!("{}.{}", bp / 100, f / 10),
        f => format!("{}.{f:02}", bp / 100),
    }
}

fn party_name(p: &Party) -> &str {
    p.company.as_deref().map(str::trim).filter(|c| !c.is_empty()).unwrap_or(p.name.trim())
}

/// The lines under a party's name: the person (when a company is named), the address, the
/// country, the tax id and the e-mail address.
fn party_lines(p: &Party, with_email: bool) -> Vec<(String, Rgb)> {
    let mut out = Vec::new();
    let name = p.name.trim();
    if name != party_name(p) && !name.is_empty() {
        out.push((name.to_string(), INK));
    }
    out.extend(p.address.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).map(|l| (l.to_string(), INK)));
    if let Some(c) = p.country.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        out.push((country_name(c).to_string(), INK));
    }
    if let Some(t) = p.tax_id.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        out.push((format!("VAT ID {t}"), MUTED));
    }
    if with_email {
        if let Some(e) = p.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            out.push((e.to_string(), MUTED));
        }
    }
    out
}

/// English names of the countries a hosting company bills most; others print as their code.
fn country_name(code: &str) -> &str {
    const NAMES: &[(&str, &str)] = &[
        ("AE", "United Arab Emirates"),
        ("AR", "Argentina"),
        ("AT", "Austria"),
        ("AU", "Australia"),
        ("BE", "Belgium"),
        ("BG", "Bulgaria"),
        ("BH", "Bahrain"),
        ("BR", "Brazil"),
        ("CA", "Canada"),
        ("CH", "Switzerland"),
        ("CL", "Chile"),
        ("CN", "China"),
        ("CY", "Cyprus"),
        ("CZ", "Czechia"),
        ("DE", "Germany"),
        ("DK", "Denmark"),
        ("EE", "Estonia"),
        ("ES", "Spain"),
        ("FI", "Finland"),
        ("FR", "France"),
        ("GB", "United Kingdom"),
        ("GR", "Greece"),
        ("HK", "Hong Kong"),
        ("HR", "Croatia"),
        ("HU", "Hungary"),
        ("ID", "Indonesia"),
        ("IE", "Ireland"),
        ("IL", "Israel"),
        ("IN", "India"),
        ("IS", "Iceland"),
        ("IT", "Italy"),
        ("JO", "Jordan"),
        ("JP", "Japan"),
        ("KR", "South Korea"),
        ("KW", "Kuwait"),
        ("LI", "Liechtenstein"),
        ("LT", "Lithuania"),
        ("LU", "Luxembourg"),
        ("LV", "Latvia"),
        ("MT", "Malta"),
        ("MX", "Mexico"),
        ("MY", "Malaysia"),
        ("NG", "Nigeria"),
        ("NL", "Netherlands"),
        ("NO", "Norway"),
        ("NZ", "New Zealand"),
        ("OM", "Oman"),
        ("PH", "Philippines"),
        ("PK", "Pakistan"),
        ("PL", "Poland"),
        ("PT", "Portugal"),
        ("RO", "Romania"),
        ("RS", "Serbia"),
        ("SA", "Saudi Arabia"),
        ("SE", "Sweden"),
        ("SG", "Singapore"),
        ("SI", "Slovenia"),
        ("SK", "Slovakia"),
        ("TH", "Thailand"),
        ("TN", "Tunisia"),
        ("TR", "Türkiye"),
        ("TW", "Taiwan"),
        ("UA", "Ukraine"),
        ("US", "United States"),
        ("VN", "Vietnam"),
        ("ZA", "South Africa"),
    ];
    NAMES.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)).map_or(code, |(_, n)| n)
}

fn status_color(s: InvoiceStatus) -> Rgb {
    match s {
        InvoiceStatus::Paid => GREEN,
        InvoiceStatus::Unpaid | InvoiceStatus::Overdue | InvoiceStatus::Collections => RED,
        InvoiceStatus::PartiallyPaid => AMBER,
        InvoiceStatus::Draft | InvoiceStatus::Cancelled | InvoiceStatus::Refunded => MUTED,
    }
}

/// What one document prints, in the one layout invoices and credit notes share: built from an
/// invoice ([`Sheet::invoice`]) or from a credit note and its invoice ([`Sheet::credit_note`]),
/// drawn by [`Writer`].
struct Sheet<'a> {
    /// Top right, large: INVOICE, DRAFT INVOICE, CREDIT NOTE.
    title: &'static str,
    /// The document's name ("Invoice INV-2026-000042"): its PDF title and its pages' running
    /// header.
    name: String,
    /// The footer's left part, before the seller.
    footer: String,
    /// (label, value, font, colour) under the title.
    facts: Vec<(&'static str, String, Font, Rgb)>,
    seller: &'a Party,
    buyer: &'a Party,
    /// Above the buyer: BILL TO, CREDIT TO.
    buyer_heading: &'static str,
    /// The band beside the buyer: its label, amount and the note under it.
    band: (&'static str, i64, String, Rgb),
    currency: Currency,
    lines: Vec<Line<'a>>,
    /// The tax column's header (VAT, GST, TAX).
    tax_header: &'static str,
    /// Under the table.
    totals: Vec<Sum>,
    reverse_charge: bool,
    /// PAYMENTS RECEIVED, REFUND.
    payments_heading: &'static str,
    payments: Vec<PaymentRow<'a>>,
    /// How to pay, while something is owed.
    instructions: Option<&'a str>,
    created: DateTime<Utc>,
}

/// A row of the table.
struct Line<'a> {
    description: Cow<'a, str>,
    /// Small, under the description: the billing period, the payment refunded.
    detail: Option<String>,
    quantity: u32,
    unit_minor: i64,
    discount_minor: i64,
    tax_minor: i64,
    total_minor: i64,
}

/// A row of the totals: label and amount.
enum Sum {
    Plain(String, i64),
    /// Bold, with a rule above.
    Total(String, i64),
    /// Bold, on a band: what the document comes to.
    Balance(String, i64),
}

/// A payment listed under the totals.
struct PaymentRow<'a> {
    on: NaiveDate,
    method: &'static str,
    reference: &'a str,
    amount_minor: i64,
    currency: Currency,
}

impl<'a> PaymentRow<'a> {
    fn of(p: &'a Payment) -> Self {
        PaymentRow {
            on: p.created_at.date_naive(),
            method: p.gateway.label(),
            reference: &p.reference,
            amount_minor: p.amount_minor,
            currency: p.currency,
        }
    }
}

/// "VAT" or "GST" when every tax line is named so, else "TAX".
fn tax_header(tax_lines: &[TaxLine]) -> &'static str {
    match tax_lines.first() {
        Some(TaxLine { name, .. }) if name.eq_ignore_ascii_case("VAT") && tax_lines.iter().all(|t| t.name == *name) => "VAT",
        Some(TaxLine { name, .. }) if name.eq_ignore_ascii_case("GST") && tax_lines.iter().all(|t| t.name == *name) => "GST",
        _ => "TAX",
    }
}

/// "VAT 20 %", with "(included)" under tax-inclusive prices.
fn tax_label(t: &TaxLine, inclusive: bool) -> String {
    if inclusive {
        format!("{} {} % (included)", t.name, percent(t.rate_bp))
    } else {
        format!("{} {} %", t.name, percent(t.rate_bp))
    }
}

impl<'a> Sheet<'a> {
    fn invoice(inv: &'a Invoice) -> Sheet<'a> {
        let mut facts: Vec<(&'static str, String, Font, Rgb)> = Vec::new();
        if let Some(n) = &inv.number {
            facts.push(("Invoice number", n.clone(), Font::Bold, INK));
        }
        if let Some(at) = inv.issued_at {
            facts.push(("Issue date", date(at.date_naive()), Font::Regular, INK));
        }
        facts.push(("Due date", date(inv.due_on), Font::Regular, INK));
        facts.push(("Status", inv.status.label().to_uppercase(), Font::Bold, status_color(inv.status)));
        let (note, color) = match inv.status {
            InvoiceStatus::Paid => (
                match inv.paid_at {
                    Some(at) => format!("Paid in full on {}", date(at.date_naive())),
                    None => "Paid in full".to_string(),
                },
                GREEN,
            ),
            InvoiceStatus::Cancelled => ("Cancelled".to_string(), MUTED),
            InvoiceStatus::Refunded => ("Refunded".to_string(), MUTED),
            InvoiceStatus::Overdue => (format!("Was due {}", date(inv.due_on)), RED),
            _ => (format!("Due {}", date(inv.due_on)), MUTED),
        };
        let lines = inv
            .lines
            .iter()
            .map(|l| Line {
                description: Cow::Borrowed(l.description.as_str()),
                detail: period(l),
                quantity: l.quantity,
                unit_minor: l.unit_minor,
                discount_minor: l.discount_minor,
                tax_minor: l.tax_minor,
                total_minor: l.total_minor,
            })
            .collect();
        let mut totals = vec![Sum::Plain("Subtotal".into(), inv.subtotal_minor)];
        if inv.discount_minor != 0 {
            totals.push(Sum::Plain("Discount".into(), -inv.discount_minor));
        }
        totals.extend(inv.tax_lines.iter().map(|t| Sum::Plain(tax_label(t, inv.tax_inclusive), t.amount_minor)));
        if inv.reverse_charge {
            totals.push(Sum::Plain("VAT (reverse charge)".into(), 0));
        }
        totals.push(Sum::Total("Total".into(), inv.total_minor));
        if inv.paid_minor != 0 || !inv.payments.is_empty() {
            totals.push(Sum::Plain("Paid".into(), -inv.paid_minor));
        }
        totals.push(Sum::Balance("Balance due".into(), inv.balance_minor));
        Sheet {
            title: if inv.number.is_some() { "INVOICE" } else { "DRAFT INVOICE" },
            name: match &inv.number {
                Some(n) => format!("Invoice {n}"),
                None => "Draft invoice".to_string(),
            },
            footer: inv.number.clone().unwrap_or_else(|| "Draft invoice".to_string()),
            facts,
            seller: &inv.seller,
            buyer: &inv.buyer,
            buyer_heading: "BILL TO",
            band: ("AMOUNT DUE", inv.balance_minor, note, color),
            currency: inv.currency,
            lines,
            tax_header: tax_header(&inv.tax_lines),
            totals,
            reverse_charge: inv.reverse_charge,
            payments_heading: "PAYMENTS RECEIVED",
            payments: inv.payments.iter().map(PaymentRow::of).collect(),
            instructions: inv.payment_instructions.as_deref().map(str::trim).filter(|s| !s.is_empty() && inv.balance_minor > 0),
            created: inv.issued_at.unwrap_or(inv.created_at),
        }
    }

    fn credit_note(c: &Credited<'a>) -> Sheet<'a> {
        let (inv, note) = (c.invoice, c.note);
        let invoice_number = inv.number.clone().unwrap_or_else(|| "(draft)".to_string());
        let mut facts: Vec<(&'static str, String, Font, Rgb)> = vec![
            ("Credit note number", note.number.clone(), Font::Bold, INK),
            ("Issue date", date(note.created_at.date_naive()), Font::Regular, INK),
            ("Credits invoice", invoice_number, Font::Bold, INK),
        ];
        if let Some(at) = inv.issued_at {
            facts.push(("Invoice date", date(at.date_naive()), Font::Regular, INK));
        }
        let how = match c.refund.map(|r| r.gateway) {
            Some(Gateway::Stripe) => "Refunded to the card",
            Some(Gateway::Razorpay) => "Refunded through Razorpay",
            Some(Gateway::BankTransfer) => "Returned by bank transfer",
            Some(Gateway::Credit) => "Added to your account credit",
            None => "Credited",
        };
        let mut totals = vec![Sum::Plain("Subtotal".into(), c.net_minor)];
        if c.tax_minor != 0 || !inv.tax_lines.is_empty() {
            let label = match inv.tax_lines.as_slice() {
                [one] => tax_label(one, inv.tax_inclusive),
                several => {
                    let names = several.iter().map(|t| format!("{} {} %", t.name, percent(t.rate_bp))).collect::<Vec<_>>().join(" + ");
                    if inv.tax_inclusive {
                        format!("{names} (included)")
                    } else if names.is_empty() {
                        "Tax".to_string()
                    } else {
                        names
                    }
                }
            };
            totals.push(Sum::Plain(label, c.tax_minor));
        }
        if inv.reverse_charge {
            totals.push(Sum::Plain("VAT (reverse charge)".into(), 0));
        }
        totals.push(Sum::Balance("Total credited".into(), note.amount_minor));
        Sheet {
            title: "CREDIT NOTE",
            name: format!("Credit note {}", note.number),
            footer: format!("Credit note {}", note.number),
            facts,
            seller: &inv.seller,
            buyer: &inv.buyer,
            buyer_heading: "CREDIT TO",
            band: ("AMOUNT CREDITED", note.amount_minor, how.to_string(), MUTED),
            currency: inv.currency,
            lines: vec![Line {
                description: Cow::Owned(c.description()),
                detail: c.payment().filter(|_| !note.reason.trim().is_empty()).map(|p| format!("Gives back {p}")),
                quantity: 1,
                unit_minor: c.net_minor,
                discount_minor: 0,
                tax_minor: c.tax_minor,
                total_minor: note.amount_minor,
            }],
            tax_header: tax_header(&inv.tax_lines),
            totals,
            reverse_charge: inv.reverse_charge,
            payments_heading: "REFUND",
            payments: c
                .refund
                .map(|r| PaymentRow { amount_minor: r.amount_minor.saturating_abs(), ..PaymentRow::of(r) })
                .into_iter()
                .collect(),
            instructions: None,
            created: note.created_at,
        }
    }
}

/// A numeric column of the table: its header, its cells and where its right edge is.
struct Column {
    header: &'static str,
    cells: Vec<String>,
    right: f32,
}

/// The line table's geometry.
struct Table {
    desc_x: f32,
    desc_w: f32,
    columns: Vec<Column>,
}

/// Draws the pages: the page being written and the ones before it.
struct Writer<'a> {
    doc: &'a Sheet<'a>,
    done: Vec<Content>,
    page: Content,
    /// The next free baseline area's top, going down.
    y: f32,
}

impl<'a> Writer<'a> {
    fn new(doc: &'a Sheet<'a>) -> Self {
        Writer { doc, done: Vec::new(), page: Content::new(), y: TOP }
    }

    fn money(&self, minor: i64) -> String {
        money(minor, self.doc.currency)
    }

    fn text(&mut self, x: f32, y: f32, font: Font, size: f32, color: Rgb, text: &[u8]) {
        if text.is_empty() {
            return;
        }
        let c = &mut self.page;
        c.set_fill_rgb(color[0], color[1], color[2]);
        c.begin_text();
        c.set_font(font.resource(), size);
        c.next_line(x, y);
        c.show(Str(text));
        c.end_text();
    }

    fn text_right(&mut self, right: f32, y: f32, font: Font, size: f32, color: Rgb, text: &[u8]) {
        let x = right - width(text, font, size);
        self.text(x, y, font, size, color, text);
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        let c = &mut self.page;
        c.set_fill_rgb(color[0], color[1], color[2]);
        c.rect(x, y, w, h);
        c.fill_nonzero();
    }

    fn hline(&mut self, x1: f32, x2: f32, y: f32, line_width: f32, color: Rgb) {
        let c = &mut self.page;
        c.set_stroke_rgb(color[0], color[1], color[2]);
        c.set_line_width(line_width);
        c.move_to(x1, y);
        c.line_to(x2, y);
        c.stroke();
    }

    /// Starts a new page with a small running header.
    fn new_page(&mut self) {
        let done = std::mem::replace(&mut self.page, Content::new());
        self.done.push(done);
        let seller = encode(party_name(self.doc.seller));
        self.text(LEFT, TOP - 8.0, Font::Bold, 9.0, INK, &seller);
        let title = format!("{} (continued)", self.doc.name);
        self.text_right(RIGHT, TOP - 8.0, Font::Regular, 9.0, MUTED, &encode(&title));
        self.hline(LEFT, RIGHT, TOP - 18.0, 0.6, RULE);
        self.y = TOP - 36.0;
    }

    /// Room for `h` points more on this page, or a new page.
    fn ensure(&mut self, h: f32) {
        if self.y - h < BOTTOM {
            self.new_page();
        }
    }

    /// The seller, the title and the document's facts (number, dates, status); then a rule.
    fn header(&mut self) {
        let doc = self.doc;
        // The seller, top left.
        let left_w = (RIGHT - LEFT) * 0.5;
        let mut y = TOP - 14.0;
        for (i, line) in wrap(party_name(doc.seller), Font::Bold, 15.0, left_w).iter().enumerate() {
            if i > 0 {
                y -= 18.0;
            }
            self.text(LEFT, y, Font::Bold, 15.0, INK, line);
        }
        y -= 6.0;
        for (line, color) in party_lines(doc.seller, true) {
            for l in wrap(&line, Font::Regular, BODY, left_w) {
                y -= 12.5;
                self.text(LEFT, y, Font::Regular, BODY, color, &l);
            }
        }
        let left_bottom = y;

        // The title and the facts, top right.
        self.text_right(RIGHT, TOP - 20.0, Font::Bold, 24.0, ACCENT, doc.title.as_bytes());
        let label_x = RIGHT - 190.0;
        let mut y = TOP - 46.0;
        for (label, value, font, color) in &doc.facts {
            self.text(label_x, y, Font::Regular, BODY, MUTED, label.as_bytes());
            self.text_right(RIGHT, y, *font, BODY, *color, &encode(value));
            y -= 14.0;
        }
        let right_bottom = y + 14.0;

        let rule = left_bottom.min(right_bottom) - 18.0;
        self.hline(LEFT, RIGHT, rule, 0.75, RULE);
        self.y = rule - 26.0;
    }

    /// The buyer ("Bill to") and the band with what the document comes to (the amount due).
    fn parties(&mut self) {
        let doc = self.doc;
        let top = self.y;
        let box_w = 200.0;
        let box_x = RIGHT - box_w;
        let left_w = box_x - LEFT - 24.0;
        self.text(LEFT, top, Font::Bold, LABEL, MUTED, doc.buyer_heading.as_bytes());
        let mut y = top - 15.0;
        for (i, line) in wrap(party_name(doc.buyer), Font::Bold, 10.5, left_w).iter().enumerate() {
            if i > 0 {
                y -= 13.0;
            }
            self.text(LEFT, y, Font::Bold, 10.5, INK, line);
        }
        for (line, color) in party_lines(doc.buyer, true) {
            for l in wrap(&line, Font::Regular, BODY, left_w) {
                y -= 12.5;
                self.text(LEFT, y, Font::Regular, BODY, color, &l);
            }
        }
        let left_bottom = y;

        // The amount, in a band on the right.
        let (label, amount, note, color) = &doc.band;
        let box_top = top + 9.0;
        let box_h = 72.0;
        self.rect(box_x, box_top - box_h, box_w, box_h, BAND);
        let inner = RIGHT - 14.0;
        self.text_right(inner, box_top - 19.0, Font::Bold, LABEL, MUTED, label.as_bytes());
        let amount = encode(&self.money(*amount));
        self.text_right(inner, box_top - 44.0, Font::Bold, 20.0, INK, &amount);
        self.text_right(inner, box_top - 60.0, Font::Regular, BODY, *color, &encode(note));
        self.y = left_bottom.min(box_top - box_h) - 30.0;
    }

    /// The table's columns, sized to what they hold.
    fn table(&self) -> Table {
        let lines = &self.doc.lines;
        let mut columns = vec![
            Column { header: "QTY", cells: lines.iter().map(|l| l.quantity.to_string()).collect(), right: 0.0 },
            Column { header: "UNIT PRICE", cells: lines.iter().map(|l| self.money(l.unit_minor)).collect(), right: 0.0 },
        ];
        if lines.iter().any(|l| l.discount_minor != 0) {
            let cells = lines.iter().map(|l| if l.discount_minor == 0 { String::new() } else { self.money(-l.discount_minor) }).collect();
            columns.push(Column { header: "DISCOUNT", cells, right: 0.0 });
        }
        if lines.iter().any(|l| l.tax_minor != 0) {
            columns.push(Column {
                header: self.doc.tax_header,
                cells: lines.iter().map(|l| self.money(l.tax_minor)).collect(),
                right: 0.0,
            });
        }
        columns.push(Column { header: "AMOUNT", cells: lines.iter().map(|l| self.money(l.total_minor)).collect(), right: 0.0 });
        let gutter = 16.0;
        let mut right = RIGHT - 8.0;
        let mut left_edge = right;
        for c in columns.iter_mut().rev() {
            let w = c
                .cells
                .iter()
                .map(|s| width(&encode(s), Font::Regular, BODY))
                .fold(width(c.header.as_bytes(), Font::Bold, LABEL), f32::max)
                .max(30.0);
            c.right = right;
            left_edge = right - w;
            right = left_edge - gutter;
        }
        let desc_x = LEFT + 8.0;
        Table { desc_x, desc_w: (left_edge - gutter - desc_x).max(60.0), columns }
    }

    fn table_header(&mut self, t: &Table) {
        let h = 20.0;
        self.rect(LEFT, self.y - h, RIGHT - LEFT, h, BAND);
        let base = self.y - 13.0;
        self.text(t.desc_x, base, Font::Bold, LABEL, MUTED, b"DESCRIPTION");
        for c in &t.columns {
            self.text_right(c.right, base, Font::Bold, LABEL, MUTED, c.header.as_bytes());
        }
        self.y -= h;
    }

    /// The table of lines, over as many pages as it takes.
    fn lines(&mut self) {
        let t = self.table();
        self.ensure(20.0 + 40.0);
        self.table_header(&t);
        let max_lines = ((TOP - BOTTOM - 100.0) / 12.0) as usize;
        for (i, line) in self.doc.lines.iter().enumerate() {
            let mut desc = wrap(&line.description, Font::Regular, BODY, t.desc_w);
            if desc.len() > max_lines {
                desc.truncate(max_lines);
                if let Some(last) = desc.last_mut() {
                    last.extend_from_slice(b" \x85");
                }
            }
            let h = 15.0 + 12.0 * (desc.len() - 1) as f32 + if line.detail.is_some() { 12.0 } else { 0.0 } + 8.0;
            if self.y - h < BOTTOM {
                self.new_page();
                self.table_header(&t);
            }
            let base = self.y - 15.0;
            for (k, l) in desc.iter().enumerate() {
                self.text(t.desc_x, base - 12.0 * k as f32, Font::Regular, BODY, INK, l);
            }
            if let Some(d) = &line.detail {
                self.text(t.desc_x, base - 12.0 * desc.len() as f32, Font::Regular, 8.0, MUTED, &encode(d));
            }
            for c in &t.columns {
                let cell = encode(&c.cells[i]);
                self.text_right(c.right, base, Font::Regular, BODY, INK, &cell);
            }
            self.y -= h;
            self.hline(LEFT, RIGHT, self.y, 0.5, HAIRLINE);
        }
        self.y -= 8.0;
    }

    /// The totals (subtotal, discount, taxes, total, paid, the balance), right-aligned under the
    /// table.
    fn totals(&mut self) {
        let rows = &self.doc.totals;
        let h: f32 = 14.0
            + rows
                .iter()
                .map(|r| match r {
                    Sum::Plain(..) => 15.0,
                    Sum::Total(..) => 24.0,
                    Sum::Balance(..) => 14.0,
                })
                .sum::<f32>();
        self.ensure(h);
        let label_x = RIGHT - 250.0;
        let value_x = RIGHT - 8.0;
        let mut y = self.y - 14.0;
        for row in rows {
            match row {
                Sum::Plain(label, value) => {
                    self.text(label_x, y, Font::Regular, BODY, MUTED, &encode(label));
                    self.text_right(value_x, y, Font::Regular, BODY, INK, &encode(&self.money(*value)));
                    y -= 15.0;
                }
                Sum::Total(label, value) => {
                    self.hline(label_x, RIGHT, y + 10.0, 0.75, RULE);
                    y -= 6.0;
                    self.text(label_x, y, Font::Bold, 10.5, INK, &encode(label));
                    self.text_right(value_x, y, Font::Bold, 10.5, INK, &encode(&self.money(*value)));
                    y -= 18.0;
                }
                Sum::Balance(label, value) => {
                    y -= 6.0;
                    self.rect(label_x - 8.0, y - 8.0, RIGHT - label_x + 8.0, 24.0, BAND);
                    self.text(label_x, y, Font::Bold, 11.0, INK, &encode(label));
                    self.text_right(value_x, y, Font::Bold, 11.0, INK, &encode(&self.money(*value)));
                    // The band's bottom.
                    y -= 8.0;
                }
            }
        }
        self.y = y;
    }

    /// A small-capitals heading with a hairline under it.
    fn heading(&mut self, text: &[u8], first_rows: f32) {
        self.ensure(34.0 + first_rows);
        self.y -= 24.0;
        self.text(LEFT, self.y, Font::Bold, LABEL, MUTED, text);
        self.hline(LEFT, RIGHT, self.y - 5.0, 0.5, HAIRLINE);
        self.y -= 6.0;
    }

    /// A paragraph over the full width.
    fn paragraph(&mut self, text: &str, font: Font, size: f32, color: Rgb) {
        let leading = size + 3.5;
        for line in wrap(text, font, size, RIGHT - LEFT) {
            self.ensure(leading);
            self.y -= leading;
            self.text(LEFT, self.y, font, size, color, &line);
        }
    }

    /// The reverse-charge note, the payments (received, or the refund) and how to pay.
    fn notes(&mut self) {
        let doc = self.doc;
        if doc.reverse_charge {
            self.ensure(40.0);
            self.y -= 12.0;
            self.paragraph(
                "Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC)",
                Font::Regular,
                BODY,
                INK,
            );
        }
        if !doc.payments.is_empty() {
            self.heading(doc.payments_heading.as_bytes(), 16.0);
            let (method_x, ref_x, amount_right) = (LEFT + 90.0, LEFT + 200.0, RIGHT - 8.0);
            for p in &doc.payments {
                self.ensure(16.0);
                self.y -= 16.0;
                let y = self.y;
                self.text(LEFT, y, Font::Regular, BODY, INK, &encode(&date(p.on)));
                self.text(method_x, y, Font::Regular, BODY, INK, &encode(p.method));
                let amount = encode(&money(p.amount_minor, p.currency));
                let room = amount_right - width(&amount, Font::Regular, BODY) - 16.0 - ref_x;
                self.text(ref_x, y, Font::Regular, BODY, MUTED, &ellipsize(p.reference, Font::Regular, BODY, room));
                self.text_right(amount_right, y, Font::Regular, BODY, INK, &amount);
            }
        }
        if let Some(text) = doc.instructions {
            // Kept with its heading on one page when it is short.
            let lines = wrap(text, Font::Regular, BODY, RIGHT - LEFT).len().min(10);
            self.heading(b"HOW TO PAY", 2.0 + (BODY + 3.5) * lines as f32);
            self.y -= 2.0;
            self.paragraph(text, Font::Regular, BODY, INK);
        }
    }

    /// The pages, each with its footer.
    fn finish(mut self) -> Vec<Content> {
        let last = std::mem::replace(&mut self.page, Content::new());
        self.done.push(last);
        let n = self.done.len();
        let left = encode(&format!("{}  \u{b7}  {}", self.doc.footer, party_name(self.doc.seller)));
        let mut pages = std::mem::take(&mut self.done);
        for (i, page) in pages.iter_mut().enumerate() {
            self.page = std::mem::replace(page, Content::new());
            self.hline(LEFT, RIGHT, FOOTER_Y + 12.0, 0.5, HAIRLINE);
            self.text(LEFT, FOOTER_Y, Font::Regular, LABEL, MUTED, &left);
            self.text_right(RIGHT, FOOTER_Y, Font::Regular, LABEL, MUTED, format!("Page {} of {n}", i + 1).as_bytes());
            *page = std::mem::replace(&mut self.page, Content::new());
        }
        pages
    }
}

/// "1 Dec 2026 – 31 Dec 2026" (with an en dash), or the one end there is.
fn period(l: &InvoiceLine) -> Option<String> {
    match (l.period_from, l.period_to) {
        (Some(a), Some(b)) => Some(format!("{} \u{2013} {}", date(a), date(b))),
        (Some(a), None) => Some(format!("From {}", date(a))),
        (None, Some(b)) => Some(format!("Until {}", date(b))),
        (None, None) => None,
    }
}

/// A realistic invoice of `lines` lines (VAT 20 %, one payment) for the benchmark and the tests.
pub fn sample_invoice(lines: usize) -> Invoice {
    const PRODUCTS: &[(&str, i64)] = &[
        ("VPS 4 (4 vCPU, 8 GB RAM, 160 GB NVMe)", 2_499),
        ("Managed WordPress hosting, Business plan", 1_599),
        ("Domain renewal: example.com", 1_299),
        ("Daily off-site backups", 350),
        ("Additional IPv4 address", 200),
        ("Dedicated server DS-2 (Ryzen 7, 64 GB RAM, 2 x 1 TB NVMe)", 8_900),
        ("SSL certificate (wildcard)", 4_900),
        ("Email hosting, 10 mailboxes", 1_000),
    ];
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).single().unwrap_or_default();
    let from = NaiveDate::from_ymd_opt(2026, 12, 1);
    let to = NaiveDate::from_ymd_opt(2026, 12, 31);
    let lines: Vec<InvoiceLine> = (0..lines)
        .map(|i| {
            let (name, unit) = PRODUCTS[i % PRODUCTS.len()];
            let quantity = 1 + (i % 3) as u32;
            let gross = unit * i64::from(quantity);
            let discount = if i % 4 == 1 { gross / 10 } else { 0 };
            let net = gross - discount;
            let tax = (net * 2000 + 5_000) / 10_000;
            InvoiceLine {
                description: name.to_string(),
                service_id: None,
                period_from: (i % 5 != 4).then_some(from).flatten(),
                period_to: (i % 5 != 4).then_some(to).flatten(),
                quantity,
                unit_minor: unit,
                discount_minor: discount,
                tax_minor: tax,
                total_minor: net + tax,
            }
        })
        .collect();
    let sum = |f: fn(&InvoiceLine) -> i64| lines.iter().map(f).sum::<i64>();
    let (subtotal, discount, tax, total) =
        (sum(|l| l.unit_minor * i64::from(l.quantity)), sum(|l| l.discount_minor), sum(|l| l.tax_minor), sum(|l| l.total_minor));
    let paid = total / 4;
    let id = |n: u32| format!("0199a0b2-0000-7000-8000-{n:012}");
    Invoice {
        id: id(1).into(),
        number: Some("INV-2026-000042".into()),
        account_id: id(2).into(),
        order_id: Some(id(3).into()),
        kind: InvoiceKind::Order,
        status: InvoiceStatus::PartiallyPaid,
        currency: Currency::EUR,
        lines,
        subtotal_minor: subtotal,
        discount_minor: discount,
        tax_minor: tax,
        total_minor: total,
        paid_minor: paid,
        balance_minor: total - paid,
        tax_lines: vec![TaxLine { name: "VAT".into(), rate_bp: 2000, amount_minor: tax }],
        tax_inclusive: false,
        reverse_charge: false,
        seller: Party {
            name: "Keel Hosting Ltd".into(),
            company: None,
            address: vec!["14 Harbour Street".into(), "Dublin D02 XY45".into()],
            country: Some("IE".into()),
            tax_id: Some("IE1234567T".into()),
            email: Some("billing@keel.example".into()),
        },
        buyer: Party {
            name: "Zoë Müller".into(),
            company: Some("Müller & Söhne GmbH".into()),
            address: vec!["Invalidenstraße 117".into(), "10115 Berlin".into()],
            country: Some("DE".into()),
            tax_id: Some("DE123456789".into()),
            email: Some("accounts@mueller.example".into()),
        },
        issued_at: Some(at),
        due_on: NaiveDate::from_ymd_opt(2026, 12, 15).unwrap_or_default(),
        paid_at: None,
        payment_instructions: Some(
            "Bank transfer to Keel Hosting Ltd\nIBAN IE29 AIBK 9311 5212 3456 78 · BIC AIBKIE2D\nPlease quote the invoice number INV-2026-000042 as the reference."
                .into(),
        ),
        payments: vec![Payment {
            id: id(4).into(),
            invoice_id: id(1).into(),
            gateway: Gateway::Stripe,
            reference: "pi_3QmZq8Lk2eZvKYlo0ABCdEfG".into(),
            amount_minor: paid,
            currency: Currency::EUR,
            refund_of: None,
            created_at: at + chrono::Duration::days(1),
        }],
        credit_notes: vec![],
        created_at: at,
    }
}

/// Helvetica's advance widths (Adobe AFM, 1/1000 em) for WinAnsiEncoding bytes 32..=255; unused
/// codes have the bullet's width, as readers draw them.
const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 32
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 48
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 64
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 80
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 96
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 350, // 112
    556, 350, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350, // 128
    350, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 350, 500, 667, // 144
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 160
    400, 584, 333, 333, 333, 578, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 176
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 192
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 208
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, // 224
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, // 240
];

/// Helvetica-Bold's advance widths, as [`HELVETICA`].
const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // 32
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 48
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // 64
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // 80
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // 96
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 350, // 112
    556, 350, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350, // 128
    350, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 350, 500, 667, // 144
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 160
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 176
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 192
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 208
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, // 224
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556, // 240
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    /// The PDF's text layer, as `pdftotext` reads it. Fails when poppler-utils is missing
    /// (`scripts/setup --test` installs it).
    fn pdftotext(pdf: &[u8]) -> String {
        let mut child = Command::new("pdftotext")
            .args(["-enc", "UTF-8", "-", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pdftotext is missing: install poppler-utils (scripts/setup --test does)");
        let mut stdin = child.stdin.take().unwrap();
        let bytes = pdf.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&bytes));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Whitespace runs as single spaces.
    fn squash(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// How many pages: pdftotext ends each with a form feed.
    fn pages(text: &str) -> usize {
        text.matches('\u{c}').count()
    }

    fn long_invoice() -> Invoice {
        let mut inv = sample_invoice(60);
        inv.lines[2].description =
            "Dedicated server DS-4 in Frankfurt with 2 x AMD EPYC 9354 processors, 512 GB of registered ECC memory, \
                                    4 x 3.84 TB enterprise NVMe drives in RAID 10, 10 Gbit/s unmetered uplink, remote hands and a \
                                    four-hour hardware replacement guarantee"
                .into();
        inv
    }

    #[test]
    fn the_text_layer_has_the_number_the_lines_and_the_total() {
        let inv = long_invoice();
        let pdf = render(&inv);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = pdftotext(&pdf);
        let flat = squash(&text);
        assert!(flat.contains("INV-2026-000042"));
        assert!(flat.contains("INVOICE"));
        for l in &inv.lines {
            let first: String = l.description.chars().take(30).collect();
            assert!(flat.contains(&squash(&first)), "{first:?} missing");
        }
        for word in inv.lines[2].description.split_whitespace() {
            assert!(flat.contains(word), "{word:?} of the long description missing");
        }
        assert!(flat.contains("1 Dec 2026 \u{2013} 31 Dec 2026"), "the period, with its en dash");
        let total = money(inv.total_minor, inv.currency);
        assert!(total.starts_with('€'));
        assert!(flat.contains(&format!("Total {total}")), "{total} missing");
        assert!(flat.contains(&format!("Balance due {}", money(inv.balance_minor, inv.currency))));
        assert!(flat.contains("VAT 20 %"));
        assert!(flat.contains("Müller & Söhne GmbH") && flat.contains("Invalidenstraße 117") && flat.contains("Germany"));
        assert!(flat.contains("PARTIALLY PAID"));
        assert!(flat.contains("PAYMENTS RECEIVED") && flat.contains("Card (Stripe)") && flat.contains("pi_3QmZq8Lk2eZvKYlo0ABCdEfG"));
        assert!(flat.contains("HOW TO PAY") && flat.contains("IBAN IE29 AIBK 9311 5212 3456 78 · BIC AIBKIE2D"));
        // 60 lines run over several pages; the table header repeats and each page is numbered.
        let n = pages(&text);
        assert!(n >= 3, "{n} pages");
        assert!(flat.contains("Page 1 of") && flat.contains(&format!("Page {n} of {n}")));
        assert!(text.matches("DESCRIPTION").count() >= 2, "the table header repeats");
        assert!(flat.contains("Invoice INV-2026-000042 (continued)"));
        assert!(!flat.contains("Reverse charge"));
    }

    /// The sample invoice of `lines` lines under the reverse charge, paid in full.
    fn reverse_charged(lines: usize) -> Invoice {
        let mut inv = sample_invoice(lines);
        for l in &mut inv.lines {
            l.total_minor -= l.tax_minor;
            l.tax_minor = 0;
        }
        inv.tax_minor = 0;
        inv.tax_lines.clear();
        inv.reverse_charge = true;
        inv.total_minor = inv.lines.iter().map(|l| l.total_minor).sum();
        inv.paid_minor = inv.total_minor;
        inv.balance_minor = 0;
        inv.status = InvoiceStatus::Paid;
        inv.paid_at = inv.issued_at;
        inv.payments[0].amount_minor = inv.total_minor;
        inv
    }

    /// `amount` of the invoice's first payment given back (at Stripe, three days after it was
    /// issued), with its credit note `CN-2026-000007`.
    fn refund(inv: &mut Invoice, amount: i64, reason: &str) -> CreditNote {
        let at = inv.created_at + chrono::Duration::days(3);
        let refund = Payment {
            id: "0199a0b2-0000-7000-8000-000000000005".to_string().into(),
            invoice_id: inv.id.clone(),
            gateway: Gateway::Stripe,
            reference: "re_3QmZq8Lk2eZvKYlo1XyZ".into(),
            amount_minor: -amount,
            currency: inv.currency,
            refund_of: Some(inv.payments[0].id.clone()),
            created_at: at,
        };
        inv.paid_minor -= amount;
        let note = CreditNote {
            id: "0199a0b2-0000-7000-8000-000000000006".to_string().into(),
            number: "CN-2026-000007".into(),
            invoice_id: inv.id.clone(),
            payment_id: Some(refund.id.clone()),
            amount_minor: amount,
            currency: inv.currency,
            reason: reason.into(),
            created_at: at,
        };
        inv.payments.push(refund);
        inv.credit_notes.push(note.clone());
        note
    }

    #[test]
    fn a_credit_note_names_its_invoice_and_splits_its_amount_as_the_invoice_does() {
        let mut inv = sample_invoice(3);
        let note = refund(&mut inv, 1_000, "Goodwill  for\ndowntime");
        let (net, tax) = crate::billing::credit_note::split(1_000, inv.tax_minor, inv.total_minor);
        // The invoice is 20 % VAT throughout: €10.00 holds €1.67 of it.
        assert_eq!((net, tax), (833, 167));
        let pdf = render_credit_note(&inv, &note);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = pdftotext(&pdf);
        let flat = squash(&text);
        for expected in [
            "CREDIT NOTE",
            "Credit note number CN-2026-000007",
            "Issue date 4 Dec 2026",
            "Credits invoice INV-2026-000042",
            "Invoice date 1 Dec 2026",
            "Refund: Goodwill for downtime",
            "Gives back payment pi_3QmZq8Lk2eZvKYlo0ABCdEfG (Card (Stripe))",
            // Seller and buyer as the invoice froze them.
            "Keel Hosting Ltd",
            "VAT ID IE1234567T",
            "CREDIT TO",
            "Müller & Söhne GmbH",
            "Invalidenstraße 117",
            "VAT ID DE123456789",
            "AMOUNT CREDITED",
            "Refunded to the card",
            "Subtotal €8.33",
            "VAT 20 % €1.67",
            "Total credited €10.00",
            "REFUND",
            "re_3QmZq8Lk2eZvKYlo1XyZ",
            "Credit note CN-2026-000007 \u{b7} Keel Hosting Ltd",
            "Page 1 of 1",
        ] {
            assert!(flat.contains(expected), "{expected:?} missing from {flat}");
        }
        // One line, quantity 1: net, its VAT, the amount.
        assert!(flat.contains("1 €8.33 €1.67 €10.00"), "{flat}");
        for absent in ["AMOUNT DUE", "Balance due", "HOW TO PAY", "Reverse charge", "PAYMENTS RECEIVED", "VPS 4"] {
            assert!(!flat.contains(absent), "{absent:?} in {flat}");
        }
        assert_eq!(pages(&text), 1);
    }

    #[test]
    fn a_reverse_charge_invoices_credit_note_holds_no_tax_and_says_so() {
        let mut inv = reverse_charged(2);
        let note = refund(&mut inv, 1_234, "");
        let flat = squash(&pdftotext(&render_credit_note(&inv, &note)));
        assert!(flat.contains("Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC)"));
        assert!(flat.contains("VAT (reverse charge) €0.00"));
        assert!(flat.contains("Subtotal €12.34") && flat.contains("Total credited €12.34"));
        // No reason given: the line names the payment it gives back.
        assert!(flat.contains("Refund of payment pi_3QmZq8Lk2eZvKYlo0ABCdEfG (Card (Stripe))"), "{flat}");
        assert!(!flat.contains("VAT 20 %"));
    }

    #[test]
    fn a_reverse_charge_invoice_says_so() {
        let inv = reverse_charged(3);
        let text = pdftotext(&render(&inv));
        let flat = squash(&text);
        assert!(flat.contains("Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC)"));
        assert!(flat.contains("VAT (reverse charge)"));
        assert!(flat.contains("PAID") && flat.contains("Paid in full on 1 Dec 2026"));
        assert!(!flat.contains("HOW TO PAY"), "nothing is owed");
        assert_eq!(pages(&text), 1, "one page");
    }

    #[test]
    fn a_draft_says_so_and_other_scripts_print_as_question_marks() {
        let mut inv = sample_invoice(2);
        inv.number = None;
        inv.issued_at = None;
        inv.status = InvoiceStatus::Draft;
        inv.currency = Currency::INR;
        inv.lines[0].description = "Сервер in 東京".into();
        let flat = squash(&pdftotext(&render(&inv)));
        assert!(flat.contains("DRAFT INVOICE"));
        assert!(flat.contains("?????? in ??"));
        assert!(flat.contains(&format!("INR {}", Money::new(inv.total_minor, Currency::EUR).to_string().trim_start_matches('€'))));
    }

    #[test]
    fn encodes_and_measures_helvetica() {
        assert_eq!(encode("Aé€–ł\t"), vec![b'A', 0xE9, 0x80, 0x96, b'?', b' ']);
        assert!((width(b"Hello", Font::Regular, 10.0) - 22.78).abs() < 1e-4);
        assert!((width(b"Hello", Font::Bold, 10.0) - 24.45).abs() < 1e-4);
        assert_eq!(money(1234, Currency::EUR), "€12.34");
        assert_eq!(money(-1234, Currency::INR), "-INR 12.34");
        assert_eq!(money(1250, Currency::KWD), "KD 1.250");
        let lines = wrap("aaaa bbbb cccc\n\nd", Font::Regular, 10.0, width(b"aaaa bbbb", Font::Regular, 10.0));
        assert_eq!(lines, vec![b"aaaa bbbb".to_vec(), b"cccc".to_vec(), vec![], b"d".to_vec()]);
        let lines = wrap("abcdefghij", Font::Regular, 10.0, width(b"abc", Font::Regular, 10.0));
        assert_eq!(lines, vec![b"abc".to_vec(), b"def".to_vec(), b"ghij".to_vec()]);
        assert_eq!(ellipsize("abcdefghij", Font::Regular, 10.0, width(b"abcd", Font::Regular, 10.0)).last(), Some(&0x85));
    }

    #[test]
    fn bench_renders() {
        assert!(bench(3) > 0.0);
    }
}

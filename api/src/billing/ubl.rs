//! An issued invoice as a UBL 2.1 `Invoice` document for PEPPOL BIS Billing 3.0 (EN 16931), the
//! XML that e-invoicing networks and accounting software read, and each of its credit notes as a
//! UBL 2.1 `CreditNote` (type 381) that refers to it. Both are written by one writer
//! (`Common::write`): the same header, parties, VAT category, tax total and monetary totals; only
//! the root, the type code, the due date or billing reference and the line elements differ.
//!
//! Pure: the invoice in, the XML out; integer arithmetic only (amounts are written from minor
//! units with the currency's exponent: 1234 USD cents are `12.34`, 1234 yen `1234`).
//!
//! How Keel's invoice maps onto EN 16931:
//! - Every line's discount is a line allowance (reason code 95), so each line's net amount
//!   (BT-131) is net of its discount and there are no document-level allowances or charges: the
//!   line nets add up exactly (BR-CO-10, BR-CO-13) whatever the rounding of the taxes.
//! - Prices excluding tax: the price is the unit price, the net is `unit × quantity − discount`.
//!   Prices including tax: the net is `total − tax` (what the line adds less the tax it holds) and
//!   the price is that net per unit (or the whole net per base quantity when it does not divide).
//! - One VAT category for the whole invoice, as Keel taxes every line of a buyer alike: `S` at the
//!   sum of the tax lines' rates, `AE` (reverse charge, VATEX-EU-AE) or `E` (no tax, "Exempt").
//! - Electronic addresses: the VAT id under its country's EAS scheme (9930 for DE …), else the
//!   e-mail address (`EM`). EN 16931 takes `EM`, but PEPPOL's own rules (PEPPOL-EN16931-CL008)
//!   do not: an invoice to a party with no European VAT id is valid EN 16931 UBL for download or
//!   e-mail, not one the PEPPOL network would carry.
//!
//! - A credit note has one line, "Refund: <reason>", of quantity 1: its amount split into net and
//!   tax as its invoice's (`credit_note::split`), under the invoice's VAT category; its billing
//!   reference (BG-3) is the invoice's number and issue date. The refund is made when the note is
//!   issued, so its whole amount is `PrepaidAmount` and `PayableAmount` is zero (BR-CO-16 holds).
//!
//! An invoice whose numbers do not add up (its lines against its totals), a draft, or one missing
//! what EN 16931 requires (countries, the seller's VAT id, an address to send to) is an `Err`
//! saying why, never a document a validator would reject; so is a credit note of such an invoice.

use std::fmt::Write as _;

use chrono::NaiveDate;
use keel_shared::billing::{CreditNote, Invoice, InvoiceLine, Party};

use super::credit_note::Credited;

const CUSTOMIZATION_ID: &str = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0";
const PROFILE_ID: &str = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0";

/// Countries whose VAT ids address a party (`cbc:EndpointID`): the EU's and a few European
/// neighbours', with the EAS scheme (CEF code list) and how the id is written in it: the whole VAT
/// id (0), or only the first n digits after the country prefix (Sweden's and Norway's schemes are
/// their organisation numbers, which their VAT ids contain).
const VAT_SCHEMES: &[(&str, &str, usize)] = &[
    ("AT", "9914", 0),
    ("BE", "9925", 0),
    ("BG", "9926", 0),
    ("CH", "9927", 0),
    ("CY", "9928", 0),
    ("CZ", "9929", 0),
    ("DE", "9930", 0),
    ("DK", "0184", 0),
    ("EE", "9931", 0),
    ("ES", "9920", 0),
    ("FI", "0213", 0),
    ("FR", "9957", 0),
    ("GB", "9932", 0),
    ("GR", "9933", 0),
    ("HR", "9934", 0),
    ("HU", "9910", 0),
    ("IE", "9935", 0),
    ("IT", "0211", 0),
    ("LT", "9937", 0),
    ("LU", "9938", 0),
    ("LV", "9939", 0),
    ("MT", "9943", 0),
    ("NL", "9944", 0),
    ("NO", "0192", 9),
    ("PL", "9945", 0),
    ("PT", "9946", 0),
    ("RO", "9947", 0),
    ("SE", "0007", 10),
    ("SI", "9949", 0),
    ("SK", "9950", 0),
];

/// The invoice as UBL 2.1 XML (PEPPOL BIS Billing 3.0), or why it cannot be.
pub fn ubl(inv: &Invoice) -> Result<String, String> {
    let c = Common::of(inv)?;
    if inv.lines.is_empty() {
        return Err("an invoice needs at least one line".into());
    }
    let amt = |minor: i64| amount(minor, c.exp);

    // The lines, and the totals checked against the invoice's own.
    let amounts: Vec<LineAmounts> = inv.lines.iter().enumerate().map(|(i, l)| line_amounts(inv, i, l)).collect::<Result<_, _>>()?;
    let line_extension = checked_sum(amounts.iter().map(|l| l.net))?;
    let tax = checked_sum(inv.lines.iter().map(|l| l.tax_minor))?;
    let lines_total = checked_sum(inv.lines.iter().map(|l| l.total_minor))?;
    if tax != inv.tax_minor {
        return Err(format!("the lines' taxes add up to {} but the invoice's tax is {}", amt(tax), amt(inv.tax_minor)));
    }
    if lines_total != inv.total_minor {
        return Err(format!("the lines add up to {} but the invoice's total is {}", amt(lines_total), amt(inv.total_minor)));
    }
    let lines: Vec<Line> = inv
        .lines
        .iter()
        .zip(amounts)
        .map(|(l, amounts)| Line { name: one_line(&l.description), period: (l.period_from, l.period_to), amounts })
        .collect();
    let payable = line_extension.checked_add(tax).and_then(|t| t.checked_sub(inv.paid_minor)).ok_or("amounts too large")?;
    let doc = Document {
        kind: Kind::Invoice,
        number: c.number,
        issue_date: inv.issued_at.unwrap_or(inv.created_at).date_naive(),
        due_date: Some(inv.due_on),
        billing_reference: None,
        payment_terms: inv.payment_instructions.as_deref().map(str::trim).filter(|s| !s.is_empty() && payable > 0),
        tax,
        prepaid: inv.paid_minor,
        lines,
    };
    c.write(&doc)
}

/// A credit note of `inv` as a UBL 2.1 `CreditNote` (PEPPOL BIS Billing 3.0, type code 381), or
/// why it cannot be: the invoice's parties and VAT category, a billing reference to the invoice
/// (its number and issue date), one line of the amount split into net and tax as the invoice's
/// (`credit_note::split`). The refund is made when the note is issued, so the whole amount is
/// stated as paid (`PrepaidAmount`) and nothing is left payable.
pub fn credit_note_ubl(inv: &Invoice, note: &CreditNote) -> Result<String, String> {
    let c = Common::of(inv)?;
    if note.invoice_id != inv.id {
        return Err(format!("credit note {} is not of invoice {}", note.number, c.number));
    }
    if note.number.trim().is_empty() {
        return Err("the credit note has no number".into());
    }
    if note.currency != inv.currency {
        return Err(format!("the credit note is in {}, its invoice in {}", note.currency.code(), inv.currency.code()));
    }
    if note.amount_minor <= 0 {
        return Err(format!("the credit note's amount is {}", amount(note.amount_minor, c.exp)));
    }
    let credited = Credited::new(inv, note);
    let (net, tax) = (credited.net_minor, credited.tax_minor);
    if net < 0 || tax < 0 {
        return Err(format!("the invoice's tax ({}) is more than its total", amount(inv.tax_minor, c.exp)));
    }
    let invoice_date = inv.issued_at.ok_or("the invoice has no issue date")?.date_naive();
    let doc = Document {
        kind: Kind::CreditNote,
        number: note.number.trim(),
        issue_date: note.created_at.date_naive(),
        due_date: None,
        billing_reference: Some((c.number, invoice_date)),
        payment_terms: None,
        tax,
        prepaid: note.amount_minor,
        lines: vec![Line {
            name: credited.description(),
            period: (None, None),
            amounts: LineAmounts { quantity: 1, net, price: net, base_quantity: None, allowance: 0 },
        }],
    };
    c.write(&doc)
}

/// The two documents: an invoice (380) or a credit note (381).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invoice,
    CreditNote,
}

impl Kind {
    fn root(self) -> &'static str {
        match self {
            Kind::Invoice => "Invoice",
            Kind::CreditNote => "CreditNote",
        }
    }

    fn type_code(self) -> (&'static str, &'static str) {
        match self {
            Kind::Invoice => ("cbc:InvoiceTypeCode", "380"),
            Kind::CreditNote => ("cbc:CreditNoteTypeCode", "381"),
        }
    }

    /// The line's element and its quantity's.
    fn line(self) -> (&'static str, &'static str) {
        match self {
            Kind::Invoice => ("cac:InvoiceLine", "cbc:InvoicedQuantity"),
            Kind::CreditNote => ("cac:CreditNoteLine", "cbc:CreditedQuantity"),
        }
    }
}

/// What either document states of its invoice, checked: the number, the currency, the VAT
/// category and the parties.
struct Common<'a> {
    inv: &'a Invoice,
    number: &'a str,
    exp: u32,
    category: Category,
    seller: PartyIds,
    buyer: PartyIds,
}

impl<'a> Common<'a> {
    fn of(inv: &'a Invoice) -> Result<Common<'a>, String> {
        let number =
            inv.number.as_deref().map(str::trim).filter(|n| !n.is_empty()).ok_or("a draft invoice has no number: issue it first")?;
        let category = category(inv)?;
        let seller = PartyIds::of(&inv.seller, "seller")?;
        let buyer = PartyIds::of(&inv.buyer, "buyer")?;
        if seller.vat.is_none() {
            // BR-S-02, BR-AE-02, BR-E-02: with VAT categories S, AE and E the seller's VAT id is given.
            return Err("the seller has no VAT id (with a country prefix, such as DE123456789)".into());
        }
        if category.code == "AE" && buyer.vat.is_none() && buyer.legal_id.is_none() {
            return Err("a reverse-charge invoice needs the buyer's VAT id".into());
        }
        Ok(Common { inv, number, exp: inv.currency.exponent(), category, seller, buyer })
    }

    /// The document as XML, its totals computed from its lines (BR-CO-10, -13, -15, -16).
    fn write(&self, d: &Document) -> Result<String, String> {
        let (inv, cur) = (self.inv, self.inv.currency.code());
        let amt = |minor: i64| amount(minor, self.exp);
        if self.category.code != "S" && d.tax != 0 {
            return Err(format!("tax is charged ({}) on an invoice without a tax rate or under the reverse charge", amt(d.tax)));
        }
        let line_extension = checked_sum(d.lines.iter().map(|l| l.amounts.net))?;
        let tax_exclusive = line_extension;
        let tax_inclusive = tax_exclusive.checked_add(d.tax).ok_or("amounts too large")?;
        let payable = tax_inclusive.checked_sub(d.prepaid).ok_or("amounts too large")?;
        let buyer_reference = inv.order_id.as_ref().map(|o| o.as_str()).unwrap_or(self.number);
        let root = d.kind.root();

        let mut x = String::with_capacity(4096 + 1024 * d.lines.len());
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            x,
            "<{root} xmlns=\"urn:oasis:names:specification:ubl:schema:xsd:{root}-2\" \
             xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2\" \
             xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\">"
        );
        el(&mut x, 1, "cbc:CustomizationID", CUSTOMIZATION_ID);
        el(&mut x, 1, "cbc:ProfileID", PROFILE_ID);
        el(&mut x, 1, "cbc:ID", d.number);
        el(&mut x, 1, "cbc:IssueDate", &d.issue_date.format("%Y-%m-%d").to_string());
        if let Some(due) = d.due_date {
            el(&mut x, 1, "cbc:DueDate", &due.format("%Y-%m-%d").to_string());
        }
        let (type_tag, type_code) = d.kind.type_code();
        el(&mut x, 1, type_tag, type_code);
        if inv.reverse_charge {
            el(
                &mut x,
                1,
                "cbc:Note",
                "Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC)",
            );
        }
        el(&mut x, 1, "cbc:DocumentCurrencyCode", cur);
        el(&mut x, 1, "cbc:BuyerReference", buyer_reference);
        if let Some((number, date)) = d.billing_reference {
            open(&mut x, 1, "cac:BillingReference");
            open(&mut x, 2, "cac:InvoiceDocumentReference");
            el(&mut x, 3, "cbc:ID", number);
            el(&mut x, 3, "cbc:IssueDate", &date.format("%Y-%m-%d").to_string());
            close(&mut x, 2, "cac:InvoiceDocumentReference");
            close(&mut x, 1, "cac:BillingReference");
        }
        party(&mut x, "cac:AccountingSupplierParty", &inv.seller, &self.seller);
        party(&mut x, "cac:AccountingCustomerParty", &inv.buyer, &self.buyer);
        if let Some(terms) = d.payment_terms {
            open(&mut x, 1, "cac:PaymentTerms");
            el(&mut x, 2, "cbc:Note", terms);
            close(&mut x, 1, "cac:PaymentTerms");
        }

        open(&mut x, 1, "cac:TaxTotal");
        money_el(&mut x, 2, "cbc:TaxAmount", &amt(d.tax), cur);
        open(&mut x, 2, "cac:TaxSubtotal");
        money_el(&mut x, 3, "cbc:TaxableAmount", &amt(tax_exclusive), cur);
        money_el(&mut x, 3, "cbc:TaxAmount", &amt(d.tax), cur);
        tax_category(&mut x, 3, "cac:TaxCategory", &self.category, true);
        close(&mut x, 2, "cac:TaxSubtotal");
        close(&mut x, 1, "cac:TaxTotal");

        open(&mut x, 1, "cac:LegalMonetaryTotal");
        money_el(&mut x, 2, "cbc:LineExtensionAmount", &amt(line_extension), cur);
        money_el(&mut x, 2, "cbc:TaxExclusiveAmount", &amt(tax_exclusive), cur);
        money_el(&mut x, 2, "cbc:TaxInclusiveAmount", &amt(tax_inclusive), cur);
        if d.prepaid != 0 {
            money_el(&mut x, 2, "cbc:PrepaidAmount", &amt(d.prepaid), cur);
        }
        money_el(&mut x, 2, "cbc:PayableAmount", &amt(payable), cur);
        close(&mut x, 1, "cac:LegalMonetaryTotal");

        let (line_tag, quantity_tag) = d.kind.line();
        for (i, line) in d.lines.iter().enumerate() {
            let a = &line.amounts;
            open(&mut x, 1, line_tag);
            el(&mut x, 2, "cbc:ID", &(i + 1).to_string());
            let _ = writeln!(x, "    <{quantity_tag} unitCode=\"C62\">{}</{quantity_tag}>", a.quantity);
            money_el(&mut x, 2, "cbc:LineExtensionAmount", &amt(a.net), cur);
            if line.period.0.is_some() || line.period.1.is_some() {
                open(&mut x, 2, "cac:InvoicePeriod");
                if let Some(d) = line.period.0 {
                    el(&mut x, 3, "cbc:StartDate", &d.format("%Y-%m-%d").to_string());
                }
                if let Some(d) = line.period.1 {
                    el(&mut x, 3, "cbc:EndDate", &d.format("%Y-%m-%d").to_string());
                }
                close(&mut x, 2, "cac:InvoicePeriod");
            }
            if a.allowance != 0 {
                open(&mut x, 2, "cac:AllowanceCharge");
                el(&mut x, 3, "cbc:ChargeIndicator", "false");
                el(&mut x, 3, "cbc:AllowanceChargeReasonCode", "95");
                el(&mut x, 3, "cbc:AllowanceChargeReason", "Discount");
                money_el(&mut x, 3, "cbc:Amount", &amt(a.allowance), cur);
                close(&mut x, 2, "cac:AllowanceCharge");
            }
            open(&mut x, 2, "cac:Item");
            el(&mut x, 3, "cbc:Name", if line.name.is_empty() { "Item" } else { &line.name });
            tax_category(&mut x, 3, "cac:ClassifiedTaxCategory", &self.category, false);
            close(&mut x, 2, "cac:Item");
            open(&mut x, 2, "cac:Price");
            money_el(&mut x, 3, "cbc:PriceAmount", &amt(a.price), cur);
            if let Some(base) = a.base_quantity {
                let _ = writeln!(x, "      <cbc:BaseQuantity unitCode=\"C62\">{base}</cbc:BaseQuantity>");
            }
            close(&mut x, 2, "cac:Price");
            close(&mut x, 1, line_tag);
        }
        let _ = writeln!(x, "</{root}>");
        Ok(x)
    }
}

/// One document to write: what differs between an invoice and a credit note.
struct Document<'a> {
    kind: Kind,
    number: &'a str,
    issue_date: NaiveDate,
    /// An invoice's (BT-9).
    due_date: Option<NaiveDate>,
    /// A credit note's: the invoice's number and issue date (BT-25, BT-26).
    billing_reference: Option<(&'a str, NaiveDate)>,
    /// How to pay, while something is payable.
    payment_terms: Option<&'a str>,
    /// The tax of the lines (BT-110).
    tax: i64,
    /// Already paid (BT-113).
    prepaid: i64,
    lines: Vec<Line>,
}

/// One line: its name (BT-153), period (BT-134, BT-135) and amounts.
struct Line {
    name: String,
    period: (Option<NaiveDate>, Option<NaiveDate>),
    amounts: LineAmounts,
}

/// The VAT category of every line.
struct Category {
    code: &'static str,
    /// Basis points (2000 = 20 %).
    rate_bp: u32,
    /// (code, text) of the exemption reason.
    exemption: Option<(Option<&'static str>, &'static str)>,
}

fn category(inv: &Invoice) -> Result<Category, String> {
    if inv.reverse_charge {
        return Ok(Category { code: "AE", rate_bp: 0, exemption: Some((Some("VATEX-EU-AE"), "Reverse charge")) });
    }
    let rate_bp = inv.tax_lines.iter().try_fold(0u32, |acc, t| acc.checked_add(t.rate_bp)).ok_or("tax rates too large")?;
    if rate_bp == 0 {
        return Ok(Category { code: "E", rate_bp: 0, exemption: Some((None, "Exempt")) });
    }
    Ok(Category { code: "S", rate_bp, exemption: None })
}

fn tax_category(x: &mut String, depth: usize, tag: &str, c: &Category, with_reason: bool) {
    open(x, depth, tag);
    el(x, depth + 1, "cbc:ID", c.code);
    el(x, depth + 1, "cbc:Percent", &percent(c.rate_bp));
    if with_reason {
        if let Some((code, text)) = c.exemption {
            if let Some(code) = code {
                el(x, depth + 1, "cbc:TaxExemptionReasonCode", code);
            }
            el(x, depth + 1, "cbc:TaxExemptionReason", text);
        }
    }
    open(x, depth + 1, "cac:TaxScheme");
    el(x, depth + 2, "cbc:ID", "VAT");
    close(x, depth + 1, "cac:TaxScheme");
    close(x, depth, tag);
}

/// One line's amounts as UBL states them, in minor units.
struct LineAmounts {
    /// Signed: negative for a credit line (the price itself is never negative, BR-27).
    quantity: i64,
    /// BT-131, net of the line's discount, excluding tax.
    net: i64,
    /// BT-146, per `base_quantity` units (one when none).
    price: i64,
    base_quantity: Option<u32>,
    /// BT-136, the line's discount.
    allowance: i64,
}

fn line_amounts(inv: &Invoice, i: usize, l: &InvoiceLine) -> Result<LineAmounts, String> {
    let exp = inv.currency.exponent();
    let n = i + 1;
    let qty = i64::from(l.quantity);
    let gross = l.unit_minor.checked_mul(qty).ok_or_else(|| format!("line {n}: amount too large"))?;
    let after_discount = gross.checked_sub(l.discount_minor).ok_or_else(|| format!("line {n}: amount too large"))?;
    let net = l.total_minor.checked_sub(l.tax_minor).ok_or_else(|| format!("line {n}: amount too large"))?;
    let (price, base_quantity, allowance) = if !inv.tax_inclusive || net == after_discount {
        // Prices exclude tax (or the line holds none): the unit price less the discount is the net.
        if net != after_discount {
            return Err(format!(
                "line {n}: {} × {} − {} discount is {}, but its total less tax is {}",
                l.quantity,
                amount(l.unit_minor, exp),
                amount(l.discount_minor, exp),
                amount(after_discount, exp),
                amount(net, exp)
            ));
        }
        (l.unit_minor, None, l.discount_minor)
    } else if qty == 0 {
        return Err(format!("line {n}: a quantity of 0 with an amount of {}", amount(net, exp)));
    } else if net % qty == 0 {
        // Prices include tax: the net price is what is left of the line once its tax is out.
        (net / qty, None, 0)
    } else {
        (net, Some(l.quantity), 0)
    };
    let (quantity, price) = if price < 0 { (-qty, -price) } else { (qty, price) };
    Ok(LineAmounts { quantity, net, price, base_quantity, allowance })
}

/// What identifies a party in UBL.
#[derive(Debug)]
struct PartyIds {
    /// The company, else the person's name.
    name: String,
    country: String,
    /// The VAT id with its country prefix.
    vat: Option<String>,
    /// A tax id that is not an EU-style VAT id (given as the legal registration id).
    legal_id: Option<String>,
    /// (scheme, id) of `cbc:EndpointID`.
    endpoint: (&'static str, String),
}

impl PartyIds {
    fn of(p: &Party, who: &str) -> Result<PartyIds, String> {
        let tax_id: Option<String> = p
            .tax_id
            .as_deref()
            .map(|t| t.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase())
            .filter(|t| !t.is_empty());
        let country = p
            .country
            .as_deref()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()));
        let has_prefix = |t: &str| t.len() > 2 && t.as_bytes()[..2].iter().all(u8::is_ascii_uppercase);
        let vat_country = country.as_deref().filter(|c| VAT_SCHEMES.iter().any(|(k, _, _)| k == c));
        let (vat, legal_id) = match (tax_id, vat_country) {
            (Some(t), _) if has_prefix(&t) => (Some(t), None),
            // A VAT id written without its country prefix.
            (Some(t), Some(c)) => (Some(format!("{}{t}", if c == "GR" { "EL" } else { c })), None),
            (Some(t), None) => (None, Some(t)),
            (None, _) => (None, None),
        };
        // The country, else the VAT id's (Greece's VAT ids start EL).
        let country = match (country, &vat) {
            (Some(c), _) => c,
            (None, Some(v)) if v.starts_with("EL") => "GR".to_string(),
            (None, Some(v)) => v[..2].to_string(),
            (None, None) => return Err(format!("the {who} has no country")),
        };
        let by_vat = vat.as_deref().and_then(|v| {
            let c = if v.starts_with("EL") { "GR" } else { &v[..2] };
            let (_, scheme, digits) = VAT_SCHEMES.iter().find(|(k, _, _)| *k == c)?;
            if *digits == 0 {
                return Some((*scheme, v.to_string()));
            }
            let d: String = v[2..].chars().take_while(char::is_ascii_digit).collect();
            (d.len() >= *digits).then(|| (*scheme, d[..*digits].to_string()))
        });
        let email = p.email.as_deref().map(str::trim).filter(|e| e.contains('@'));
        let endpoint = match (by_vat, email) {
            (Some(e), _) => e,
            (None, Some(e)) => ("EM", e.to_string()),
            (None, None) => return Err(format!("the {who} has neither a European VAT id nor an e-mail address to send the invoice to")),
        };
        let name = p.company.as_deref().map(str::trim).filter(|c| !c.is_empty()).unwrap_or(p.name.trim());
        if name.is_empty() {
            return Err(format!("the {who} has no name"));
        }
        Ok(PartyIds { name: name.to_string(), country, vat, legal_id, endpoint })
    }
}

fn party(x: &mut String, tag: &str, p: &Party, ids: &PartyIds) {
    open(x, 1, tag);
    open(x, 2, "cac:Party");
    let _ = writeln!(x, "      <cbc:EndpointID schemeID=\"{}\">{}</cbc:EndpointID>", ids.endpoint.0, escape(&ids.endpoint.1));
    let name = ids.name.as_str();
    open(x, 3, "cac:PartyName");
    el(x, 4, "cbc:Name", name);
    close(x, 3, "cac:PartyName");
    open(x, 3, "cac:PostalAddress");
    let addr = Address::parse(&p.address);
    for (tag, v) in [
        ("cbc:StreetName", &addr.street),
        ("cbc:CityName", &addr.city),
        ("cbc:PostalZone", &addr.postal_zone),
        ("cbc:CountrySubentity", &addr.region),
    ] {
        if let Some(v) = v {
            el(x, 4, tag, v);
        }
    }
    if let Some(v) = &addr.more {
        open(x, 4, "cac:AddressLine");
        el(x, 5, "cbc:Line", v);
        close(x, 4, "cac:AddressLine");
    }
    open(x, 4, "cac:Country");
    el(x, 5, "cbc:IdentificationCode", &ids.country);
    close(x, 4, "cac:Country");
    close(x, 3, "cac:PostalAddress");
    if let Some(vat) = &ids.vat {
        open(x, 3, "cac:PartyTaxScheme");
        el(x, 4, "cbc:CompanyID", vat);
        open(x, 4, "cac:TaxScheme");
        el(x, 5, "cbc:ID", "VAT");
        close(x, 4, "cac:TaxScheme");
        close(x, 3, "cac:PartyTaxScheme");
    }
    open(x, 3, "cac:PartyLegalEntity");
    el(x, 4, "cbc:RegistrationName", name);
    if let Some(id) = &ids.legal_id {
        el(x, 4, "cbc:CompanyID", id);
    }
    close(x, 3, "cac:PartyLegalEntity");
    let person = p.company.as_deref().is_some_and(|c| !c.trim().is_empty() && c.trim() != p.name.trim()) && !p.name.trim().is_empty();
    let email = p.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    if person || email.is_some() {
        open(x, 3, "cac:Contact");
        if person {
            el(x, 4, "cbc:Name", p.name.trim());
        }
        if let Some(e) = email {
            el(x, 4, "cbc:ElectronicMail", e);
        }
        close(x, 3, "cac:Contact");
    }
    close(x, 2, "cac:Party");
    close(x, 1, tag);
}

/// A postal address split best-effort from its lines, in the order `Party::address` keeps them:
/// street; postcode and city; region; anything more.
#[derive(Debug, Default, PartialEq)]
struct Address {
    street: Option<String>,
    city: Option<String>,
    postal_zone: Option<String>,
    region: Option<String>,
    more: Option<String>,
}

impl Address {
    fn parse(lines: &[String]) -> Address {
        let lines: Vec<&str> = lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
        let (postal_zone, city) = lines.get(1).map_or((None, None), |l| split_postcode(l));
        Address {
            street: lines.first().map(|l| l.to_string()),
            city,
            postal_zone,
            region: lines.get(2).map(|l| l.to_string()),
            more: (lines.len() > 3).then(|| lines[3..].join(", ")),
        }
    }
}

/// "10115 Berlin" → (10115, Berlin); "London SW1A 1AA" → (SW1A 1AA, London); "Springfield, IL
/// 62704" → (62704, Springfield, IL).
fn split_postcode(line: &str) -> (Option<String>, Option<String>) {
    let words: Vec<&str> = line.split_whitespace().collect();
    let has_digit = |w: &&&str| w.bytes().any(|b| b.is_ascii_digit());
    let lead = words.iter().take_while(has_digit).count();
    let trail = words.iter().rev().take_while(has_digit).count();
    let (postal, city) = if lead > 0 && lead < words.len() {
        (words[..lead].join(" "), words[lead..].join(" "))
    } else if trail > 0 && trail < words.len() {
        (words[words.len() - trail..].join(" "), words[..words.len() - trail].join(" "))
    } else {
        return (None, Some(line.trim().to_string()).filter(|s| !s.is_empty()));
    };
    let city = city.trim_matches(|c: char| c == ',' || c.is_whitespace()).to_string();
    (Some(postal).filter(|s| !s.is_empty()), Some(city).filter(|s| !s.is_empty()))
}

fn checked_sum(mut it: impl Iterator<Item = i64>) -> Result<i64, String> {
    it.try_fold(0i64, |acc, v| acc.checked_add(v)).ok_or_else(|| "amounts too large".to_string())
}

/// Minor units as a decimal with `exponent` places: (1234, 2) → "12.34", (-5, 2) → "-0.05",
/// (1234, 0) → "1234".
fn amount(minor: i64, exponent: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10u64.pow(exponent);
    format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exponent as usize)
}

/// Basis points as a percentage: 2000 → "20", 1950 → "19.5", 725 → "7.25".
fn percent(bp: u32) -> String {
    match bp % 100 {
        0 => format!("{}", bp / 100),
        f if f % 10 == 0 => format!("{}.{}", bp / 100, f / 10),
        f => format!("{}.{f:02}", bp / 100),
    }
}

/// Whitespace (newlines included) collapsed to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text escaped for XML content and attributes; characters XML 1.0 cannot hold are dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn indent(x: &mut String, depth: usize) {
    for _ in 0..depth {
        x.push_str("  ");
    }
}

fn open(x: &mut String, depth: usize, tag: &str) {
    indent(x, depth);
    let _ = writeln!(x, "<{tag}>");
}

fn close(x: &mut String, depth: usize, tag: &str) {
    indent(x, depth);
    let _ = writeln!(x, "</{tag}>");
}

fn el(x: &mut String, depth: usize, tag: &str, text: &str) {
    indent(x, depth);
    let _ = writeln!(x, "<{tag}>{}</{tag}>", escape(text));
}

fn money_el(x: &mut String, depth: usize, tag: &str, value: &str, currency: &str) {
    indent(x, depth);
    let _ = writeln!(x, "<{tag} currencyID=\"{currency}\">{value}</{tag}>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};
    use keel_shared::billing::{Gateway, InvoiceKind, InvoiceStatus, Payment};
    use keel_shared::cart::TaxLine;
    use keel_shared::money::{div_round_half_away, Currency};

    const NS_CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";
    const NS_CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";

    struct Spec {
        currency: Currency,
        rate_bp: u32,
        inclusive: bool,
        reverse_charge: bool,
        /// (description, quantity, unit price, discount)
        lines: Vec<(&'static str, u32, i64, i64)>,
        paid: i64,
    }

    /// An invoice priced as `keel_shared::pricing` prices (tax rounded per line, half away from
    /// zero; under inclusive prices the tax is what the gross holds beyond the net).
    fn invoice(s: &Spec) -> Invoice {
        let rate = i128::from(s.rate_bp);
        let lines: Vec<InvoiceLine> = s
            .lines
            .iter()
            .enumerate()
            .map(|(i, (desc, qty, unit, discount))| {
                let after = unit * i64::from(*qty) - discount;
                let (tax, total) = match (s.inclusive, s.reverse_charge || s.rate_bp == 0) {
                    (false, true) => (0, after),
                    (false, false) => {
                        let t = div_round_half_away(i128::from(after) * rate, 10_000) as i64;
                        (t, after + t)
                    }
                    (true, untaxed) => {
                        let net = div_round_half_away(i128::from(after) * 10_000, 10_000 + rate) as i64;
                        if untaxed {
                            (0, net)
                        } else {
                            (after - net, after)
                        }
                    }
                };
                InvoiceLine {
                    description: desc.to_string(),
                    service_id: None,
                    period_from: (i % 2 == 0).then(|| NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
                    period_to: (i % 2 == 0).then(|| NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
                    quantity: *qty,
                    unit_minor: *unit,
                    discount_minor: *discount,
                    tax_minor: tax,
                    total_minor: total,
                }
            })
            .collect();
        let sum = |f: fn(&InvoiceLine) -> i64| lines.iter().map(f).sum::<i64>();
        let tax = sum(|l| l.tax_minor);
        let total = sum(|l| l.total_minor);
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap();
        Invoice {
            id: "0199a0b2-0000-7000-8000-000000000001".to_string().into(),
            number: Some("INV-2026-000042".into()),
            account_id: "0199a0b2-0000-7000-8000-000000000002".to_string().into(),
            order_id: Some("0199a0b2-0000-7000-8000-000000000003".to_string().into()),
            kind: InvoiceKind::Order,
            status: if s.paid >= total { InvoiceStatus::Paid } else { InvoiceStatus::Unpaid },
            currency: s.currency,
            subtotal_minor: sum(|l| l.unit_minor * i64::from(l.quantity)),
            discount_minor: sum(|l| l.discount_minor),
            tax_minor: tax,
            total_minor: total,
            paid_minor: s.paid,
            balance_minor: (total - s.paid).max(0),
            tax_lines: if s.reverse_charge || s.rate_bp == 0 {
                vec![]
            } else {
                vec![TaxLine { name: "VAT".into(), rate_bp: s.rate_bp, amount_minor: tax }]
            },
            tax_inclusive: s.inclusive,
            reverse_charge: s.reverse_charge,
            lines,
            seller: Party {
                name: "Keel Hosting GmbH".into(),
                company: None,
                address: vec!["Invalidenstraße 117".into(), "10115 Berlin".into()],
                country: Some("DE".into()),
                tax_id: Some("DE 123 456 789".into()),
                email: Some("billing@keel.example".into()),
            },
            buyer: Party {
                name: "Anna <Smith> & Co".into(),
                company: Some("Smith & Söhne SARL".into()),
                address: vec!["12 rue de la Paix".into(), "75002 Paris".into(), "Île-de-France".into()],
                country: Some("FR".into()),
                tax_id: Some("FR12345678901".into()),
                email: Some("anna@example.fr".into()),
            },
            issued_at: Some(at),
            due_on: NaiveDate::from_ymd_opt(2026, 12, 15).unwrap(),
            paid_at: None,
            payment_instructions: Some("IBAN DE89 3704 0044 0532 0130 00\nReference: INV-2026-000042".into()),
            payments: if s.paid > 0 {
                vec![Payment {
                    id: "0199a0b2-0000-7000-8000-000000000004".to_string().into(),
                    invoice_id: "0199a0b2-0000-7000-8000-000000000001".to_string().into(),
                    gateway: Gateway::Stripe,
                    reference: "pi_3Nabc".into(),
                    amount_minor: s.paid,
                    currency: s.currency,
                    refund_of: None,
                    created_at: at,
                }]
            } else {
                vec![]
            },
            credit_notes: vec![],
            created_at: at,
        }
    }

    fn lines() -> Vec<(&'static str, u32, i64, i64)> {
        vec![
            ("VPS 4 — 4 vCPU, 8 GB RAM, 160 GB NVMe", 1, 2_499, 250),
            ("Daily backups", 3, 333, 0),
            ("example.com renewal", 1, 1_299, 0),
            ("Extra IPv4 address", 7, 217, 101),
            ("Setup fee", 1, 1_000, 1_000),
        ]
    }

    /// Minor units from a UBL decimal, checking it has no more places than the currency.
    fn minor(s: &str, exp: u32) -> i64 {
        let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        assert!(frac.len() as u32 <= exp, "{s} has more than {exp} decimals");
        let v = int.parse::<i64>().unwrap() * 10i64.pow(exp) + format!("{frac:0<width$}", width = exp as usize).parse::<i64>().unwrap_or(0);
        if neg {
            -v
        } else {
            v
        }
    }

    fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, path: &str) -> Option<roxmltree::Node<'a, 'i>> {
        let mut cur = n;
        for step in path.split('/') {
            let (prefix, name) = step.split_once(':').unwrap();
            let ns = if prefix == "cbc" { NS_CBC } else { NS_CAC };
            cur = cur.children().find(|c| c.tag_name().name() == name && c.tag_name().namespace() == Some(ns))?;
        }
        Some(cur)
    }

    fn children<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
        n.children().filter(move |c| c.is_element() && c.tag_name().name() == name)
    }

    fn text<'a>(n: roxmltree::Node<'a, '_>, path: &str) -> &'a str {
        child(n, path).and_then(|c| c.text()).unwrap_or_else(|| panic!("{path} missing"))
    }

    /// The seller and buyer as PEPPOL BIS 3.0 needs them (an electronic address, a country, a
    /// legal name, a VAT id with its prefix); every amount in the document's currency with at most
    /// its exponent's decimals.
    fn check_parties_and_amounts(r: roxmltree::Node, inv: &Invoice) {
        for party in ["cac:AccountingSupplierParty/cac:Party", "cac:AccountingCustomerParty/cac:Party"] {
            let party = child(r, party).unwrap_or_else(|| panic!("{party} missing"));
            let endpoint = child(party, "cbc:EndpointID").expect("EndpointID");
            assert!(endpoint.attribute("schemeID").is_some_and(|s| !s.is_empty()));
            assert!(!endpoint.text().unwrap_or_default().is_empty());
            assert_eq!(text(party, "cac:PostalAddress/cac:Country/cbc:IdentificationCode").len(), 2);
            assert!(!text(party, "cac:PartyLegalEntity/cbc:RegistrationName").is_empty());
            if let Some(vat) = child(party, "cac:PartyTaxScheme") {
                assert_eq!(text(vat, "cac:TaxScheme/cbc:ID"), "VAT");
                assert!(text(vat, "cbc:CompanyID").as_bytes()[..2].iter().all(u8::is_ascii_uppercase), "BR-CO-09");
            }
        }
        for n in r.descendants().filter(|n| n.attribute("currencyID").is_some()) {
            assert_eq!(n.attribute("currencyID"), Some(inv.currency.code()));
            minor(n.text().unwrap(), inv.currency.exponent());
        }
    }

    /// Parses the document, asserts what PEPPOL BIS 3.0 makes mandatory and that the sums add
    /// up (BR-CO-10, -13, -14, -15, -16, -17, PEPPOL-EN16931-R120), recomputed from the lines.
    /// Returns (tax-inclusive total, tax, payable) in minor units.
    fn check(xml: &str, inv: &Invoice) -> (i64, i64, i64) {
        let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
        let exp = inv.currency.exponent();
        let r = doc.root_element();
        assert_eq!(r.tag_name().name(), "Invoice");
        assert_eq!(r.tag_name().namespace(), Some("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"));
        assert_eq!(text(r, "cbc:CustomizationID"), CUSTOMIZATION_ID);
        assert_eq!(text(r, "cbc:ProfileID"), PROFILE_ID);
        assert_eq!(text(r, "cbc:ID"), inv.number.as_deref().unwrap());
        assert_eq!(text(r, "cbc:IssueDate"), "2026-12-01");
        assert_eq!(text(r, "cbc:DueDate"), "2026-12-15");
        assert_eq!(text(r, "cbc:InvoiceTypeCode"), "380");
        assert_eq!(text(r, "cbc:DocumentCurrencyCode"), inv.currency.code());
        assert!(!text(r, "cbc:BuyerReference").is_empty());
        check_parties_and_amounts(r, inv);
        let amount = |n: roxmltree::Node, path: &str| child(n, path).map_or(0, |c| minor(c.text().unwrap(), exp));

        let mut sum_lines = 0;
        let mut by_category: Vec<(String, i64)> = vec![];
        let invoice_lines: Vec<_> = children(r, "InvoiceLine").collect();
        assert_eq!(invoice_lines.len(), inv.lines.len());
        for (i, l) in invoice_lines.iter().enumerate() {
            assert_eq!(text(*l, "cbc:ID"), (i + 1).to_string());
            let qty_el = child(*l, "cbc:InvoicedQuantity").unwrap();
            assert_eq!(qty_el.attribute("unitCode"), Some("C62"));
            let qty: i64 = qty_el.text().unwrap().parse().unwrap();
            let net = amount(*l, "cbc:LineExtensionAmount");
            let price = amount(*l, "cac:Price/cbc:PriceAmount");
            assert!(price >= 0, "BR-27");
            let base: i64 = child(*l, "cac:Price/cbc:BaseQuantity").map_or(1, |b| b.text().unwrap().parse().unwrap());
            let mut allowances = 0;
            for ac in children(*l, "AllowanceCharge") {
                assert_eq!(text(ac, "cbc:ChargeIndicator"), "false");
                assert!(child(ac, "cbc:AllowanceChargeReason").is_some() || child(ac, "cbc:AllowanceChargeReasonCode").is_some(), "BR-42");
                allowances += amount(ac, "cbc:Amount");
            }
            // PEPPOL-EN16931-R120: net = quantity × price / base quantity − allowances, exactly.
            assert_eq!(i128::from(qty) * i128::from(price), i128::from(net + allowances) * i128::from(base), "line {}", i + 1);
            assert!(!text(*l, "cac:Item/cbc:Name").is_empty());
            let cat = child(*l, "cac:Item/cac:ClassifiedTaxCategory").expect("ClassifiedTaxCategory");
            assert_eq!(text(cat, "cac:TaxScheme/cbc:ID"), "VAT");
            assert!(child(cat, "cbc:Percent").is_some());
            // The line's net excludes its tax: net + tax = what the line adds to the invoice.
            assert_eq!(net + inv.lines[i].tax_minor, inv.lines[i].total_minor, "line {}", i + 1);
            let id = text(cat, "cbc:ID").to_string();
            match by_category.iter_mut().find(|(c, _)| *c == id) {
                Some((_, t)) => *t += net,
                None => by_category.push((id, net)),
            }
            sum_lines += net;
        }
        let total = child(r, "cac:LegalMonetaryTotal").expect("LegalMonetaryTotal");
        let line_ext = amount(total, "cbc:LineExtensionAmount");
        let excl = amount(total, "cbc:TaxExclusiveAmount");
        let incl = amount(total, "cbc:TaxInclusiveAmount");
        let allowance_total = amount(total, "cbc:AllowanceTotalAmount");
        let charge_total = amount(total, "cbc:ChargeTotalAmount");
        let prepaid = amount(total, "cbc:PrepaidAmount");
        let payable = amount(total, "cbc:PayableAmount");
        assert!(child(total, "cbc:PayableAmount").is_some());
        let doc_allowances: i64 = children(r, "AllowanceCharge").map(|a| amount(a, "cbc:Amount")).sum();
        assert_eq!(allowance_total, doc_allowances, "BR-CO-11");
        assert_eq!(sum_lines, line_ext, "BR-CO-10");
        assert_eq!(excl, line_ext - allowance_total + charge_total, "BR-CO-13");
        let tax_totals: Vec<_> = children(r, "TaxTotal").collect();
        assert_eq!(tax_totals.len(), 1);
        let tax = amount(tax_totals[0], "cbc:TaxAmount");
        assert_eq!(incl, excl + tax, "BR-CO-15");
        assert_eq!(payable, incl - prepaid, "BR-CO-16");
        let subtotals: Vec<_> = children(tax_totals[0], "TaxSubtotal").collect();
        assert_eq!(subtotals.iter().map(|s| amount(*s, "cbc:TaxAmount")).sum::<i64>(), tax, "BR-CO-14");
        assert_eq!(subtotals.len(), by_category.len());
        for s in &subtotals {
            let cat = child(*s, "cac:TaxCategory").unwrap();
            let id = text(cat, "cbc:ID");
            let taxable = amount(*s, "cbc:TaxableAmount");
            let sub_tax = amount(*s, "cbc:TaxAmount");
            let lines_net = by_category.iter().find(|(c, _)| c == id).map(|(_, t)| *t).unwrap();
            assert_eq!(taxable, lines_net, "BR-S-08/BR-AE-08/BR-E-08: taxable amount of {id}");
            // BR-CO-17: the category's tax is its taxable amount × rate, within one major unit
            // (the tax is rounded per line).
            let pct = text(cat, "cbc:Percent");
            let (whole, frac) = pct.split_once('.').unwrap_or((pct, ""));
            let bp = whole.parse::<i128>().unwrap() * 100 + format!("{frac:0<2}").parse::<i128>().unwrap();
            let expected = div_round_half_away(i128::from(taxable) * bp, 10_000);
            assert!((i128::from(sub_tax) - expected).abs() <= 10i128.pow(exp), "BR-CO-17: {sub_tax} vs {expected}");
            match id {
                "S" => assert!(bp > 0),
                "AE" => {
                    assert_eq!((bp, sub_tax), (0, 0));
                    assert_eq!(text(cat, "cbc:TaxExemptionReasonCode"), "VATEX-EU-AE");
                    assert_eq!(text(cat, "cbc:TaxExemptionReason"), "Reverse charge");
                }
                "E" => {
                    assert_eq!((bp, sub_tax), (0, 0));
                    assert_eq!(text(cat, "cbc:TaxExemptionReason"), "Exempt");
                }
                other => panic!("unexpected category {other}"),
            }
        }
        // And it is the invoice Keel shows.
        assert_eq!(incl, inv.total_minor);
        assert_eq!(tax, inv.tax_minor);
        assert_eq!(prepaid, inv.paid_minor);
        assert_eq!(payable.max(0), inv.balance_minor);
        (incl, tax, payable)
    }

    #[test]
    fn a_taxed_invoice_adds_up() {
        let inv =
            invoice(&Spec { currency: Currency::EUR, rate_bp: 1900, inclusive: false, reverse_charge: false, lines: lines(), paid: 1_000 });
        let xml = ubl(&inv).unwrap();
        let (incl, tax, payable) = check(&xml, &inv);
        // 2249 + 999 + 1299 + 1418 + 0 = 5965 net; VAT per line 427 + 190 + 247 + 269 + 0.
        assert_eq!((incl, tax, payable), (5965 + 1133, 1133, 5965 + 1133 - 1000));
        assert!(xml.contains("<cbc:Percent>19</cbc:Percent>"));
        assert!(xml.contains("<cbc:EndpointID schemeID=\"9930\">DE123456789</cbc:EndpointID>"), "{xml}");
        assert!(xml.contains("<cbc:EndpointID schemeID=\"9957\">FR12345678901</cbc:EndpointID>"));
        assert!(xml.contains("<cbc:PrepaidAmount currencyID=\"EUR\">10.00</cbc:PrepaidAmount>"));
        assert!(xml.contains("<cbc:Amount currencyID=\"EUR\">2.50</cbc:Amount>"), "the line discount is a line allowance");
        assert!(xml.contains("<cbc:Name>Smith &amp; Söhne SARL</cbc:Name>"));
        assert!(xml.contains("<cbc:Name>Anna &lt;Smith&gt; &amp; Co</cbc:Name>"));
        assert!(xml.contains("<cbc:StreetName>Invalidenstraße 117</cbc:StreetName>"));
        assert!(xml.contains("<cbc:CityName>Berlin</cbc:CityName>"));
        assert!(xml.contains("<cbc:PostalZone>10115</cbc:PostalZone>"));
        assert!(xml.contains("<cbc:CountrySubentity>Île-de-France</cbc:CountrySubentity>"));
        assert!(xml.contains("<cbc:StartDate>2026-12-01</cbc:StartDate>"));
        assert!(xml.contains("<cbc:BuyerReference>0199a0b2-0000-7000-8000-000000000003</cbc:BuyerReference>"));
        assert!(xml.contains("IBAN DE89"), "payment instructions while something is owed");
        assert!(!xml.contains("AllowanceTotalAmount"), "discounts are on the lines, not the document");
    }

    #[test]
    fn a_tax_inclusive_invoice_adds_up() {
        let inv =
            invoice(&Spec { currency: Currency::GBP, rate_bp: 2000, inclusive: true, reverse_charge: false, lines: lines(), paid: 0 });
        assert!(inv.lines.iter().any(|l| (l.total_minor - l.tax_minor) % i64::from(l.quantity) != 0), "a net that does not divide");
        let xml = ubl(&inv).unwrap();
        let (incl, tax, payable) = check(&xml, &inv);
        assert_eq!(incl, inv.lines.iter().map(|l| l.unit_minor * i64::from(l.quantity) - l.discount_minor).sum::<i64>());
        assert_eq!((tax, payable), (inv.tax_minor, incl));
        assert!(xml.contains("<cbc:BaseQuantity unitCode=\"C62\">7</cbc:BaseQuantity>"));
        assert!(!xml.contains("<cbc:PrepaidAmount"));
    }

    #[test]
    fn a_reverse_charge_invoice_is_category_ae() {
        for inclusive in [false, true] {
            let inv = invoice(&Spec { currency: Currency::EUR, rate_bp: 2000, inclusive, reverse_charge: true, lines: lines(), paid: 0 });
            let xml = ubl(&inv).unwrap();
            let (_, tax, _) = check(&xml, &inv);
            assert_eq!(tax, 0);
            assert!(xml.contains("<cbc:ID>AE</cbc:ID>"));
            assert!(!xml.contains("<cbc:ID>S</cbc:ID>"));
            assert!(xml.contains("Article 196"));
        }
        let mut inv =
            invoice(&Spec { currency: Currency::EUR, rate_bp: 2000, inclusive: false, reverse_charge: true, lines: lines(), paid: 0 });
        inv.buyer.tax_id = None;
        assert!(ubl(&inv).unwrap_err().contains("buyer's VAT id"));
    }

    #[test]
    fn a_yen_invoice_has_no_decimals() {
        let lines = vec![("Dedicated server", 1, 12_800, 1_000), ("Bandwidth, per TB", 3, 1_100, 0), ("Tiny", 1, 5, 0)];
        let inv = invoice(&Spec { currency: Currency::JPY, rate_bp: 1000, inclusive: false, reverse_charge: false, lines, paid: 10_000 });
        let xml = ubl(&inv).unwrap();
        let (incl, tax, payable) = check(&xml, &inv);
        assert_eq!((incl, tax, payable), (16_616, 1_511, 6_616));
        assert!(xml.contains("<cbc:PriceAmount currencyID=\"JPY\">12800</cbc:PriceAmount>"));
        assert!(xml.contains("<cbc:TaxAmount currencyID=\"JPY\">1511</cbc:TaxAmount>"));
        assert!(!xml.contains("JPY\">0.") && !xml.contains(".00<"), "{xml}");
    }

    #[test]
    fn an_untaxed_invoice_is_exempt() {
        let mut inv =
            invoice(&Spec { currency: Currency::USD, rate_bp: 0, inclusive: false, reverse_charge: false, lines: lines(), paid: 0 });
        inv.buyer = Party { name: "Bob".into(), country: Some("US".into()), email: Some("bob@example.com".into()), ..Party::default() };
        let xml = ubl(&inv).unwrap();
        check(&xml, &inv);
        assert!(xml.contains("<cbc:ID>E</cbc:ID>"));
        assert!(xml.contains("<cbc:EndpointID schemeID=\"EM\">bob@example.com</cbc:EndpointID>"));
    }

    #[test]
    fn what_cannot_be_a_ubl_invoice_is_an_error() {
        let base =
            invoice(&Spec { currency: Currency::EUR, rate_bp: 1900, inclusive: false, reverse_charge: false, lines: lines(), paid: 0 });
        let mut draft = base.clone();
        draft.number = None;
        assert!(ubl(&draft).unwrap_err().contains("draft"));
        let mut off = base.clone();
        off.lines[1].total_minor += 1;
        assert!(ubl(&off).unwrap_err().contains("line 2"));
        let mut off = base.clone();
        off.total_minor += 1;
        assert!(ubl(&off).is_err());
        let mut no_vat = base.clone();
        no_vat.seller.tax_id = None;
        assert!(ubl(&no_vat).unwrap_err().contains("seller has no VAT id"));
        let mut nowhere = base.clone();
        nowhere.buyer.country = None;
        nowhere.buyer.tax_id = None;
        assert!(ubl(&nowhere).unwrap_err().contains("buyer has no country"));
        let mut empty = base;
        empty.lines.clear();
        assert!(ubl(&empty).is_err());
    }

    /// The UBL 2.1 CreditNote's top-level elements in their schema order (the ones Keel may
    /// write).
    const CREDIT_NOTE_ORDER: &[&str] = &[
        "CustomizationID",
        "ProfileID",
        "ID",
        "IssueDate",
        "CreditNoteTypeCode",
        "Note",
        "DocumentCurrencyCode",
        "BuyerReference",
        "BillingReference",
        "AccountingSupplierParty",
        "AccountingCustomerParty",
        "PaymentTerms",
        "TaxTotal",
        "LegalMonetaryTotal",
        "CreditNoteLine",
    ];

    /// The invoice's first payment (or, when nothing was paid, a bank transfer) given back in part:
    /// `amount`, with the credit note CN-2026-000001.
    fn refund(inv: &mut Invoice, amount: i64, reason: &str) -> CreditNote {
        let at = Utc.with_ymd_and_hms(2026, 12, 20, 10, 0, 0).unwrap();
        let refund = Payment {
            id: "0199a0b2-0000-7000-8000-000000000005".to_string().into(),
            invoice_id: inv.id.clone(),
            gateway: inv.payments.first().map_or(Gateway::BankTransfer, |p| p.gateway),
            reference: "re_1Abc".into(),
            amount_minor: -amount,
            currency: inv.currency,
            refund_of: inv.payments.first().map(|p| p.id.clone()),
            created_at: at,
        };
        let note = CreditNote {
            id: "0199a0b2-0000-7000-8000-000000000006".to_string().into(),
            number: "CN-2026-000001".into(),
            invoice_id: inv.id.clone(),
            payment_id: Some(refund.id.clone()),
            amount_minor: amount,
            currency: inv.currency,
            reason: reason.into(),
            created_at: at,
        };
        inv.paid_minor = (inv.paid_minor - amount).max(0);
        inv.payments.push(refund);
        inv.credit_notes.push(note.clone());
        note
    }

    /// Parses a credit note and asserts what PEPPOL BIS 3.0 makes mandatory, the schema's element
    /// order, the billing reference to the invoice, one line in the invoice's VAT category, and
    /// that the sums add up (BR-CO-10, -13, -14, -15, -16, -17, PEPPOL-EN16931-R120).
    /// Returns (net, tax, tax-inclusive total) in minor units.
    fn check_credit_note(xml: &str, inv: &Invoice, note: &CreditNote) -> (i64, i64, i64) {
        let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
        let exp = inv.currency.exponent();
        let r = doc.root_element();
        assert_eq!(r.tag_name().name(), "CreditNote");
        assert_eq!(r.tag_name().namespace(), Some("urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"));
        let order: Vec<usize> = r
            .children()
            .filter(|c| c.is_element())
            .map(|c| {
                CREDIT_NOTE_ORDER
                    .iter()
                    .position(|n| *n == c.tag_name().name())
                    .unwrap_or_else(|| panic!("{:?} in a CreditNote", c.tag_name()))
            })
            .collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "the elements are out of the schema's order: {order:?}");
        assert_eq!(text(r, "cbc:CustomizationID"), CUSTOMIZATION_ID);
        assert_eq!(text(r, "cbc:ProfileID"), PROFILE_ID);
        assert_eq!(text(r, "cbc:ID"), note.number);
        assert_eq!(text(r, "cbc:IssueDate"), "2026-12-20");
        assert_eq!(text(r, "cbc:CreditNoteTypeCode"), "381");
        assert_eq!(text(r, "cbc:DocumentCurrencyCode"), inv.currency.code());
        assert!(!text(r, "cbc:BuyerReference").is_empty(), "PEPPOL-EN16931-R003");
        let reference = child(r, "cac:BillingReference/cac:InvoiceDocumentReference").expect("BillingReference");
        assert_eq!(text(reference, "cbc:ID"), inv.number.as_deref().unwrap());
        assert_eq!(text(reference, "cbc:IssueDate"), "2026-12-01");
        check_parties_and_amounts(r, inv);
        let amount = |n: roxmltree::Node, path: &str| child(n, path).map_or(0, |c| minor(c.text().unwrap(), exp));

        let lines: Vec<_> = children(r, "CreditNoteLine").collect();
        assert_eq!(lines.len(), 1);
        let l = lines[0];
        assert_eq!(text(l, "cbc:ID"), "1");
        let qty = child(l, "cbc:CreditedQuantity").expect("CreditedQuantity");
        assert_eq!((qty.attribute("unitCode"), qty.text()), (Some("C62"), Some("1")));
        let net = amount(l, "cbc:LineExtensionAmount");
        let price = amount(l, "cac:Price/cbc:PriceAmount");
        assert!(price >= 0, "BR-27");
        assert_eq!(price, net, "PEPPOL-EN16931-R120: 1 × price = net");
        assert!(text(l, "cac:Item/cbc:Name").starts_with("Refund"));
        let line_category = child(l, "cac:Item/cac:ClassifiedTaxCategory").expect("ClassifiedTaxCategory");
        assert_eq!(text(line_category, "cac:TaxScheme/cbc:ID"), "VAT");

        let total = child(r, "cac:LegalMonetaryTotal").expect("LegalMonetaryTotal");
        let line_ext = amount(total, "cbc:LineExtensionAmount");
        let excl = amount(total, "cbc:TaxExclusiveAmount");
        let incl = amount(total, "cbc:TaxInclusiveAmount");
        let prepaid = amount(total, "cbc:PrepaidAmount");
        let payable = amount(total, "cbc:PayableAmount");
        assert!(child(total, "cbc:PayableAmount").is_some());
        assert_eq!(line_ext, net, "BR-CO-10");
        assert_eq!(excl, line_ext, "BR-CO-13: no document allowances or charges");
        let tax_totals: Vec<_> = children(r, "TaxTotal").collect();
        assert_eq!(tax_totals.len(), 1);
        let tax = amount(tax_totals[0], "cbc:TaxAmount");
        assert_eq!(incl, excl + tax, "BR-CO-15");
        assert_eq!(payable, incl - prepaid, "BR-CO-16");
        let subtotals: Vec<_> = children(tax_totals[0], "TaxSubtotal").collect();
        assert_eq!(subtotals.len(), 1);
        let s = subtotals[0];
        assert_eq!(amount(s, "cbc:TaxAmount"), tax, "BR-CO-14");
        assert_eq!(amount(s, "cbc:TaxableAmount"), net, "BR-S-08/BR-AE-08/BR-E-08");
        let cat = child(s, "cac:TaxCategory").unwrap();
        assert_eq!(text(cat, "cbc:ID"), text(line_category, "cbc:ID"));
        assert_eq!(text(cat, "cbc:Percent"), text(line_category, "cbc:Percent"));
        let pct = text(cat, "cbc:Percent");
        let (whole, frac) = pct.split_once('.').unwrap_or((pct, ""));
        let bp = whole.parse::<i128>().unwrap() * 100 + format!("{frac:0<2}").parse::<i128>().unwrap();
        let expected = div_round_half_away(i128::from(net) * bp, 10_000);
        assert!((i128::from(tax) - expected).abs() <= 10i128.pow(exp), "BR-CO-17: {tax} vs {expected}");
        match text(cat, "cbc:ID") {
            "S" => assert!(bp > 0),
            "AE" => {
                assert_eq!((bp, tax), (0, 0));
                assert_eq!(text(cat, "cbc:TaxExemptionReasonCode"), "VATEX-EU-AE");
            }
            "E" => {
                assert_eq!((bp, tax), (0, 0));
                assert_eq!(text(cat, "cbc:TaxExemptionReason"), "Exempt");
            }
            other => panic!("unexpected category {other}"),
        }
        // It is the note Keel shows: its amount, split as the invoice's, all of it refunded.
        assert_eq!(incl, note.amount_minor);
        assert_eq!((net, tax), crate::billing::credit_note::split(note.amount_minor, inv.tax_minor, inv.total_minor));
        assert_eq!((prepaid, payable), (note.amount_minor, 0));
        (net, tax, incl)
    }

    #[test]
    fn a_credit_note_of_a_taxed_invoice_adds_up_and_refers_to_it() {
        let paid =
            invoice(&Spec { currency: Currency::EUR, rate_bp: 1900, inclusive: false, reverse_charge: false, lines: lines(), paid: 0 })
                .total_minor;
        let mut inv =
            invoice(&Spec { currency: Currency::EUR, rate_bp: 1900, inclusive: false, reverse_charge: false, lines: lines(), paid });
        let note = refund(&mut inv, 1_000, "Goodwill <downtime> & more");
        let xml = credit_note_ubl(&inv, &note).unwrap();
        // 70.98 holding 11.33 of VAT: 10.00 back holds 1.596… → 1.60.
        assert_eq!(check_credit_note(&xml, &inv, &note), (840, 160, 1_000));
        assert!(xml.contains("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"));
        assert!(xml.contains("<cbc:Percent>19</cbc:Percent>"));
        assert!(xml.contains("<cbc:Name>Refund: Goodwill &lt;downtime&gt; &amp; more</cbc:Name>"));
        assert!(xml.contains("<cbc:EndpointID schemeID=\"9930\">DE123456789</cbc:EndpointID>"));
        assert!(xml.contains("<cbc:PrepaidAmount currencyID=\"EUR\">10.00</cbc:PrepaidAmount>"));
        assert!(xml.contains("<cbc:PayableAmount currencyID=\"EUR\">0.00</cbc:PayableAmount>"));
        assert!(
            !xml.contains("DueDate") && !xml.contains("InvoiceTypeCode") && !xml.contains("PaymentTerms") && !xml.contains("Article 196")
        );
        // The invoice it credits is still a valid invoice of its own.
        assert!(ubl(&inv).is_ok());

        // A tax-inclusive yen invoice: no decimals, the split still adds up.
        let yen = vec![("Dedicated server", 1, 12_800, 1_000), ("Bandwidth, per TB", 3, 1_100, 0)];
        let mut inv =
            invoice(&Spec { currency: Currency::JPY, rate_bp: 1000, inclusive: true, reverse_charge: false, lines: yen, paid: 15_000 });
        let note = refund(&mut inv, 3_333, "Partial");
        let xml = credit_note_ubl(&inv, &note).unwrap();
        let (net, tax, _) = check_credit_note(&xml, &inv, &note);
        assert_eq!(net + tax, 3_333);
        assert!(!xml.contains("JPY\">0.") && !xml.contains(".00<"), "{xml}");
    }

    #[test]
    fn a_reverse_charge_invoices_credit_note_is_category_ae() {
        let mut inv =
            invoice(&Spec { currency: Currency::EUR, rate_bp: 2000, inclusive: false, reverse_charge: true, lines: lines(), paid: 5_000 });
        let note = refund(&mut inv, 2_500, "Cancelled within 14 days");
        let xml = credit_note_ubl(&inv, &note).unwrap();
        assert_eq!(check_credit_note(&xml, &inv, &note), (2_500, 0, 2_500));
        assert!(xml.contains("<cbc:ID>AE</cbc:ID>") && !xml.contains("<cbc:ID>S</cbc:ID>"));
        assert!(xml.contains("Article 196"), "the reverse-charge note, as on the invoice");
        let mut no_vat = inv.clone();
        no_vat.buyer.tax_id = None;
        assert!(credit_note_ubl(&no_vat, &note).unwrap_err().contains("buyer's VAT id"));
    }

    #[test]
    fn an_untaxed_invoices_credit_note_is_exempt() {
        let mut inv =
            invoice(&Spec { currency: Currency::USD, rate_bp: 0, inclusive: false, reverse_charge: false, lines: lines(), paid: 0 });
        inv.buyer = Party { name: "Bob".into(), country: Some("US".into()), email: Some("bob@example.com".into()), ..Party::default() };
        // Nothing was paid: a bank transfer given back, with no reason given.
        let note = refund(&mut inv, 999, " ");
        let xml = credit_note_ubl(&inv, &note).unwrap();
        assert_eq!(check_credit_note(&xml, &inv, &note), (999, 0, 999));
        assert!(xml.contains("<cbc:ID>E</cbc:ID>"));
        assert!(xml.contains("<cbc:EndpointID schemeID=\"EM\">bob@example.com</cbc:EndpointID>"));
        assert!(xml.contains("<cbc:Name>Refund of payment re_1Abc (Bank transfer)</cbc:Name>"), "{xml}");
    }

    #[test]
    fn what_cannot_be_a_ubl_credit_note_is_an_error() {
        let mut base =
            invoice(&Spec { currency: Currency::EUR, rate_bp: 1900, inclusive: false, reverse_charge: false, lines: lines(), paid: 5_000 });
        let note = refund(&mut base, 1_000, "x");
        let mut other = note.clone();
        other.invoice_id = "0199a0b2-0000-7000-8000-000000000099".to_string().into();
        assert!(credit_note_ubl(&base, &other).unwrap_err().contains("is not of invoice"));
        let mut yen = note.clone();
        yen.currency = Currency::JPY;
        assert!(credit_note_ubl(&base, &yen).is_err());
        let mut nothing = note.clone();
        nothing.amount_minor = 0;
        assert!(credit_note_ubl(&base, &nothing).is_err());
        let mut no_vat = base.clone();
        no_vat.seller.tax_id = None;
        assert!(credit_note_ubl(&no_vat, &note).unwrap_err().contains("seller has no VAT id"));
        let mut draft = base;
        draft.number = None;
        assert!(credit_note_ubl(&draft, &note).unwrap_err().contains("draft"));
    }

    #[test]
    fn parties_are_addressed_by_vat_id_else_email() {
        let p = |country: Option<&str>, tax_id: Option<&str>, email: Option<&str>| Party {
            name: "X".into(),
            country: country.map(Into::into),
            tax_id: tax_id.map(Into::into),
            email: email.map(Into::into),
            ..Party::default()
        };
        let ids = PartyIds::of(&p(Some("SE"), Some("SE556677889901"), None), "buyer").unwrap();
        assert_eq!(ids.endpoint, ("0007", "5566778899".to_string()), "Sweden: the organisation number");
        let ids = PartyIds::of(&p(Some("de"), Some("123 456 789"), None), "buyer").unwrap();
        assert_eq!((ids.endpoint.0, ids.vat.as_deref(), ids.country.as_str()), ("9930", Some("DE123456789"), "DE"));
        let ids = PartyIds::of(&p(None, Some("EL123456789"), None), "buyer").unwrap();
        assert_eq!((ids.endpoint.0, ids.country.as_str()), ("9933", "GR"));
        let ids = PartyIds::of(&p(Some("US"), Some("12-3456789"), Some("a@b.example")), "buyer").unwrap();
        assert_eq!((ids.endpoint.0, ids.vat, ids.legal_id.as_deref()), ("EM", None, Some("123456789")));
        assert!(PartyIds::of(&p(Some("US"), None, None), "buyer").unwrap_err().contains("e-mail"));
        assert!(PartyIds::of(&p(Some("DE"), Some("DE1"), None), "buyer").is_ok());
    }

    #[test]
    fn amounts_percentages_and_addresses() {
        assert_eq!(amount(1234, 2), "12.34");
        assert_eq!(amount(-5, 2), "-0.05");
        assert_eq!(amount(1234, 0), "1234");
        assert_eq!(amount(1250, 3), "1.250");
        assert_eq!(amount(i64::MIN, 2), "-92233720368547758.08");
        assert_eq!((percent(2000), percent(1950), percent(725), percent(0)), ("20".into(), "19.5".into(), "7.25".into(), "0".into()));
        assert_eq!(escape("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(split_postcode("London SW1A 1AA"), (Some("SW1A 1AA".into()), Some("London".into())));
        assert_eq!(split_postcode("Springfield, IL 62704"), (Some("62704".into()), Some("Springfield, IL".into())));
        assert_eq!(split_postcode("Dublin"), (None, Some("Dublin".into())));
        let a =
            Address::parse(&["Hauptstraße 5".into(), " ".into(), "1010 Wien".into(), "Wien".into(), "Hinterhaus".into(), "c/o X".into()]);
        assert_eq!(
            a,
            Address {
                street: Some("Hauptstraße 5".into()),
                city: Some("Wien".into()),
                postal_zone: Some("1010".into()),
                region: Some("Wien".into()),
                more: Some("Hinterhaus, c/o X".into()),
            }
        );
        assert_eq!(Address::parse(&[]), Address::default());
    }
}
